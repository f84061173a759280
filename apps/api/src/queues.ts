import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';
import { CALLS_QUEUE, CallResultJob, RESULTS_QUEUE, WebhookCallJob } from '@hookrunner/contracts';
import { closeRedis, connectRedis, createRedis, openQueue, type RedisClient } from '@hookrunner/redis';
import { registerQueueMetrics } from '@hookrunner/observability';

/**
 * The API's only door to BullMQ: it adds calls, replays failed ones and reads the queue depth;
 * everything else about a call is read from its record (CallRepository). The queues get a
 * fail-fast connection of their own: BullMQ defines its scripts on the connection it is given, and
 * ioredis would copy all of them into every pipeline the API builds on a shared one.
 */
@Injectable()
export class ApiQueues implements OnModuleInit, OnApplicationShutdown {
  readonly calls: Queue<WebhookCallJob>;
  readonly results: Queue<CallResultJob>;
  private readonly connection: RedisClient;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.connection = createRedis(config, 'command', 'hookrunner:api-queues', { autoPipelining: true });
    this.calls = openQueue<WebhookCallJob>(CALLS_QUEUE, this.connection);
    this.results = openQueue<CallResultJob>(RESULTS_QUEUE, this.connection);
  }

  async onModuleInit(): Promise<void> {
    await connectRedis(this.connection).catch(() => undefined); // /ready reports it; enqueue answers 503 meanwhile
    registerQueueMetrics([this.calls, this.results] as never);
  }

  /** Whether a failed call's job is still kept (for FAILED_RETENTION_HOURS), so it can run again. */
  async isReplayable(callId: string): Promise<boolean> {
    const job = await this.calls.getJob(callId);
    return job !== undefined && (await job.isFailed());
  }

  /** Runs a failed call's job again as run `run`, with a fresh attempt budget. */
  async replay(callId: string, run: number): Promise<void> {
    const job = await this.calls.getJob(callId);
    if (!job) throw new Error(`the job of call ${callId} vanished during its replay`);
    await job.updateData({ ...job.data, run });
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  }

  async onApplicationShutdown(): Promise<void> {
    // BullMQ does not close connections it was given.
    await Promise.all([this.calls.close(), this.results.close()]);
    await closeRedis(this.connection);
  }
}
