import { Module } from '@nestjs/common';
import { ObservabilityModule } from '@hookrunner/observability';
import { webhookSenderProvider } from '@hookrunner/outbound';
import { BackgroundRedisModule, RedisModule, STATE_REDIS } from '@hookrunner/redis';
import { CallProcessor } from './call.processor';
import { CallRunnerService } from './call-runner.service';

/** Performs webhook calls from the calls queue. */
@Module({
  imports: [BackgroundRedisModule],
  providers: [webhookSenderProvider(STATE_REDIS), CallRunnerService, CallProcessor],
})
export class WorkerModule {}

/** The worker as its own process: /metrics, /health and /ready on METRICS_PORT. */
@Module({ imports: [RedisModule, ObservabilityModule, WorkerModule] })
export class WorkerAppModule {}
