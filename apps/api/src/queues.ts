import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';
import { CALLS_QUEUE, CallResultJob, RESULTS_QUEUE, WebhookCallJob } from '@hookrunner/contracts';
import { closeRedis, connectRedis, createRedis, openQueue } from '@hookrunner/redis';
import { registerQueueMetrics } from '@hookrunner/observability';

/**
 * The API's handles on both queues: it produces calls and reads job states for GET
 * /v1/calls/{callId}. They get a fail-fast connection of their own: BullMQ defines its scripts on
 * the connection it is given, and ioredis would copy all of them into every pipeline the API
 * builds on a shared one.
 */
@Injectable()
export class ApiQueues implements OnModuleInit, OnApplicationShutdown {
  readonly calls: Queue<WebhookCallJob>;
  readonly results: Queue<CallResultJob>;
  private readonly connection: Redis;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.connection = createRedis(config.redisUrl, 'command', 'hookrunner:api-queues', { autoPipelining: true });
    this.calls = openQueue<WebhookCallJob>(CALLS_QUEUE, this.connection);
    this.results = openQueue<CallResultJob>(RESULTS_QUEUE, this.connection);
  }

  async onModuleInit(): Promise<void> {
    await connectRedis(this.connection).catch(() => undefined); // /ready reports it; enqueue answers 503 meanwhile
    registerQueueMetrics([this.calls, this.results] as never);
  }

  async onApplicationShutdown(): Promise<void> {
    // BullMQ does not close connections it was given.
    await Promise.all([this.calls.close(), this.results.close()]);
    await closeRedis(this.connection);
  }
}
