import { Global, Inject, Module, OnModuleInit } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';
import { REDIS, type RedisClient } from '@hookrunner/redis';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';
import { startDefaultMetrics } from './metrics';
import { Readiness } from './readiness';
import { AppLogger } from './app-logger';
import { watchRedis } from './redis-watch';

/** Structured JSON logs, /health, /ready and /metrics: the same for every role. */
@Global()
@Module({
  imports: [
    TerminusModule.forRoot({ logger: false }),
    LoggerModule.forRootAsync({
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => ({
        pinoHttp: {
          level: config.log.level,
          // One line per finished call is logged by the worker and results roles; per-request
          // access logs would dominate the API's hot path.
          autoLogging: false,
          redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '***' },
          base: { service: 'hookrunner', pid: process.pid },
        },
        // No request-scoped logger on any route. It serialised every request into a child
        // logger (12% of the API's CPU per enqueue, for lines nothing logs), and its
        // AsyncLocalStorage turns on Node's promise hooks for the rest of the process: a hook
        // call per promise on every hot path. The one line an API request can log, an
        // unhandled error, names its method and route itself.
        forRoutes: [],
      }),
    }),
  ],
  controllers: [HealthController, MetricsController],
  providers: [Readiness, AppLogger],
  exports: [Readiness, AppLogger],
})
export class ObservabilityModule implements OnModuleInit {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  onModuleInit(): void {
    startDefaultMetrics();
    watchRedis(this.redis);
  }
}
