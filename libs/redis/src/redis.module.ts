import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';
import { closeRedis, connectRedis, createRedis } from './connections';

/** The API's connection: fails fast while Redis is down, so requests get a 503 instead of hanging. */
export const REDIS = Symbol('REDIS');

/**
 * The background roles' connection (worker, results consumer, and the BullMQ workers they run):
 * queues commands while Redis is down and sends them once it is back, so a Redis restart delays
 * work instead of failing attempts.
 */
export const BACKGROUND_REDIS = Symbol('BACKGROUND_REDIS');

@Injectable()
class RedisLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');

  constructor(private readonly client: Redis) {}

  async onModuleInit(): Promise<void> {
    // A process may start while Redis is down: it comes up, reports not ready, and reconnects.
    await connectRedis(this.client).catch((err: Error) => this.logger.warn(`Redis not reachable yet: ${err.message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    // Runs after every onModuleDestroy, so the BullMQ workers on this connection have drained.
    await closeRedis(this.client);
  }
}

@Global()
@Module({
  providers: [
    { provide: REDIS, inject: [APP_CONFIG], useFactory: (config: AppConfig) => createRedis(config.redisUrl, 'command', 'hookrunner') },
    { provide: RedisLifecycle, inject: [REDIS], useFactory: (client: Redis) => new RedisLifecycle(client) },
  ],
  exports: [REDIS],
})
export class RedisModule {}

/** Imported by the background roles only; one connection per process however many import it. */
@Module({
  providers: [
    {
      provide: BACKGROUND_REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => createRedis(config.redisUrl, 'blocking', 'hookrunner:background'),
    },
    { provide: 'BACKGROUND_REDIS_LIFECYCLE', inject: [BACKGROUND_REDIS], useFactory: (client: Redis) => new RedisLifecycle(client) },
  ],
  exports: [BACKGROUND_REDIS],
})
export class BackgroundRedisModule {}
