import { Module, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ObservabilityModule } from '@hookrunner/observability';
import { webhookSenderProvider } from '@hookrunner/outbound';
import { REDIS, RedisModule } from '@hookrunner/redis';
import { AdminController } from './admin/admin.controller';
import { KeyController } from './auth/key.controller';
import { EventsStreamController } from './events/events-stream.controller';
import { CallStatusService } from './calls/call-status.service';
import { CallWaiterService } from './calls/call-waiter.service';
import { CallsController } from './calls/calls.controller';
import { TurnsController } from './calls/turns.controller';
import { BackpressureService } from './calls/backpressure.service';
import { DeadLettersService } from './calls/dead-letters.service';
import { EnqueueService } from './calls/enqueue.service';
import { BotEventsService } from './events/bot-events.service';
import { DomainErrorFilter } from './errors/domain-error.filter';
import { ApiQueues } from './queues';
import { ApiKeyGuard } from './auth/api-key.guard';
import { AuthAnnouncer } from './auth/auth-announcer';
import { StateController } from './state/state.controller';
import { StatsController } from './state/stats.controller';
import { SigningSecretsController } from './signing/signing-secrets.controller';
import { DefinitionsService } from './webhooks/definitions.service';
import { WebhookTestService } from './webhooks/webhook-test.service';
import { WebhooksController } from './webhooks/webhooks.controller';
import { WebhookHealthService } from './webhooks/webhook-health.service';

/** The HTTP API: definitions, enqueue, call status and state. */
@Module({
  controllers: [
    WebhooksController,
    CallsController,
    TurnsController,
    StateController,
    StatsController,
    SigningSecretsController,
    // The Webhooks page, the key check its sign-in uses, and the live event stream it follows.
    KeyController,
    EventsStreamController,
    AdminController,
  ],
  providers: [
    DefinitionsService,
    webhookSenderProvider(REDIS),
    WebhookTestService,
    WebhookHealthService,
    EnqueueService,
    CallStatusService,
    BackpressureService,
    DeadLettersService,
    ApiQueues,
    BotEventsService,
    CallWaiterService,
    AuthAnnouncer,
    { provide: APP_GUARD, useClass: ApiKeyGuard },
    { provide: APP_FILTER, useClass: DomainErrorFilter },
    {
      provide: APP_PIPE,
      useValue: new ValidationPipe({
        whitelist: true,
        forbidNonWhitelisted: true,
        transform: true,
        stopAtFirstError: false,
      }),
    },
  ],
})
export class ApiModule {}

/** The API as its own process. */
@Module({ imports: [RedisModule, ObservabilityModule, ApiModule] })
export class ApiAppModule {}
