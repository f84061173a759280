import { Global, Inject, Injectable, Logger, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { RedisClient } from './connections';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';
import { CallRepository } from './call-repository';
import { ResultStream } from './result-stream';
import { closeRedis, connectRedis, createRedis } from './connections';
import { defineScripts } from './scripts';

/** The API's connection: fails fast while Redis is down, so requests get a 503 instead of hanging. */
export const REDIS = Symbol('REDIS');

/**
 * The background roles' connection for their BullMQ workers and queues: queues commands while
 * Redis is down and sends them once it is back, so a Redis restart delays work instead of failing
 * attempts.
 */
export const BACKGROUND_REDIS = Symbol('BACKGROUND_REDIS');

/**
 * The background roles' own commands (state reads, merge and publish scripts, pipelines), with
 * the same patience. Kept apart from BACKGROUND_REDIS because BullMQ defines some 45 scripts on
 * the connection it is given and ioredis copies every one of them into each pipeline: on the hot
 * path that copying cost a tenth of the results consumer's CPU. It auto-pipelines; the BullMQ
 * connection does not (measured: auto-pipelining BullMQ's own commands cost more CPU than it saved).
 */
export const STATE_REDIS = Symbol('STATE_REDIS');

@Injectable()
class RedisLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Redis');

  constructor(private readonly client: RedisClient) {}

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
    {
      provide: REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        defineScripts(createRedis(config, 'command', 'hookrunner', { autoPipelining: true })),
    },
    { provide: RedisLifecycle, inject: [REDIS], useFactory: (client: RedisClient) => new RedisLifecycle(client) },
    { provide: CallRepository, inject: [REDIS], useFactory: (client: RedisClient) => new CallRepository(client) },
  ],
  exports: [REDIS, CallRepository],
})
export class RedisModule {}

/**
 * Opens and closes the background connection. A BullMQ worker that could not drain within the
 * grace period still runs its jobs on this connection; closing it under them makes BullMQ retry
 * in a tight loop, so such a worker abandons the connection and the process exit closes it.
 */
@Injectable()
export class BackgroundRedisLifecycle implements OnModuleInit, OnApplicationShutdown {
  private readonly lifecycles: RedisLifecycle[];
  private abandoned = false;

  constructor(@Inject(BACKGROUND_REDIS) background: RedisClient, @Inject(STATE_REDIS) state: RedisClient) {
    this.lifecycles = [new RedisLifecycle(background), new RedisLifecycle(state)];
  }

  /** Leaves the connections open at shutdown: a worker on them still has jobs running. */
  abandon(): void {
    this.abandoned = true;
  }

  async onModuleInit(): Promise<void> {
    await Promise.all(this.lifecycles.map((l) => l.onModuleInit()));
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.abandoned) await Promise.all(this.lifecycles.map((l) => l.onApplicationShutdown()));
  }
}

/** Imported by the background roles only; one connection per process however many import it. */
@Module({
  providers: [
    {
      provide: BACKGROUND_REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) => createRedis(config, 'blocking', 'hookrunner:background'),
    },
    {
      provide: STATE_REDIS,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        defineScripts(createRedis(config, 'blocking', 'hookrunner:state', { autoPipelining: true })),
    },
    { provide: CallRepository, inject: [STATE_REDIS], useFactory: (client: RedisClient) => new CallRepository(client) },
    // On the state connection: a worker's results leave in its batches, a consumer's acks in its.
    { provide: ResultStream, inject: [STATE_REDIS], useFactory: (client: RedisClient) => new ResultStream(client) },
    BackgroundRedisLifecycle,
  ],
  exports: [BACKGROUND_REDIS, STATE_REDIS, CallRepository, ResultStream, BackgroundRedisLifecycle],
})
export class BackgroundRedisModule {}
