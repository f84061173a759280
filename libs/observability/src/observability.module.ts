import { Global, Inject, Module, OnModuleInit, RequestMethod } from '@nestjs/common';
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
        // The request-scoped logger runs each request inside an AsyncLocalStorage, which turns on
        // Node's promise hooks for the rest of the process: a hook call per promise on the worker's
        // and the results consumer's hot paths (about 6% of their CPU), set off by the first
        // /ready poll. These routes log nothing worth a request id.
        exclude: ['health', 'ready', 'metrics'].map((path) => ({ path, method: RequestMethod.GET })),
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
