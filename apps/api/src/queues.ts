import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type Redis from 'ioredis';
import { CALLS_QUEUE, CallResultJob, RESULTS_QUEUE, WebhookCallJob } from '@hookrunner/contracts';
import { openQueue, REDIS } from '@hookrunner/redis';
import { registerQueueMetrics } from '@hookrunner/observability';

/** The API's handles on both queues: it produces calls and reads job states for GET /v1/calls/{callId}. */
@Injectable()
export class ApiQueues implements OnModuleInit, OnApplicationShutdown {
  readonly calls: Queue<WebhookCallJob>;
  readonly results: Queue<CallResultJob>;

  constructor(@Inject(REDIS) redis: Redis) {
    this.calls = openQueue<WebhookCallJob>(CALLS_QUEUE, redis);
    this.results = openQueue<CallResultJob>(RESULTS_QUEUE, redis);
  }

  onModuleInit(): void {
    registerQueueMetrics([this.calls, this.results] as never);
  }

  async onApplicationShutdown(): Promise<void> {
    // The shared connection is closed by RedisModule; BullMQ does not close connections it was given.
    await Promise.all([this.calls.close(), this.results.close()]);
  }
}
