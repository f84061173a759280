import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';
import { closeRedis, connectRedis, createRedis } from './connections';

/** The shared command connection (fails fast while Redis is down). */
export const REDIS = Symbol('REDIS');

@Injectable()
class RedisLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onModuleInit(): Promise<void> {
    // A process may start while Redis is down: it comes up, reports not ready, and reconnects.
    await connectRedis(this.redis).catch((err: Error) => this.logger.warn(`Redis not reachable yet: ${err.message}`));
  }

  async onApplicationShutdown(): Promise<void> {
    await closeRedis(this.redis);
  }
}

@Global()
@Module({
  providers: [
    { provide: REDIS, inject: [APP_CONFIG], useFactory: (config: AppConfig) => createRedis(config.redisUrl, 'command', 'hookrunner') },
    RedisLifecycle,
  ],
  exports: [REDIS],
})
export class RedisModule {}
