import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';
import { CALLS_QUEUE, partitionPrefix, RESULTS_QUEUE, WebhookCallJob } from '@hookrunner/contracts';
import { partitionOf } from '@hookrunner/isolation';
import { closeRedis, connectRedis, createRedis, openQueue, type RedisClient, ResultStream } from '@hookrunner/redis';
import { partitionedCounter, type QueueCounter, registerQueueMetrics } from '@hookrunner/observability';

/**
 * The API's only door to BullMQ: it adds calls (to the bot's partition of the calls queue),
 * replays failed ones and reads the queue depth; everything else about a call is read from its
 * record (CallRepository). The queues get a fail-fast connection of their own: BullMQ defines its
 * scripts on the connection it is given, and ioredis would copy all of them into every pipeline
 * the API builds on a shared one.
 */
@Injectable()
export class ApiQueues implements OnModuleInit, OnApplicationShutdown {
  /** The partitions of the calls queue, by number (QUEUE_PARTITIONS). */
  readonly callPartitions: Queue<WebhookCallJob>[];
  private readonly connection: RedisClient;
  private readonly partitions: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.connection = createRedis(config, 'command', 'hookrunner:api-queues', { autoPipelining: true });
    this.callPartitions = Array.from({ length: config.isolation.partitions }, (_, p) =>
      openQueue<WebhookCallJob>(CALLS_QUEUE, this.connection, { prefix: partitionPrefix(p) }),
    );
    this.partitions = config.isolation.partitions;
  }

  partitionOf(botId: string): number {
    return partitionOf(botId, this.callPartitions.length);
  }

  /** The partition of the calls queue that takes the bot's calls. */
  callsFor(botId: string): Queue<WebhookCallJob> {
    return this.callPartitions[this.partitionOf(botId)];
  }

  /** Calls ready to run, over every partition. */
  async waitingCalls(): Promise<number> {
    const counts = await Promise.all(this.callPartitions.map((q) => q.getJobCountByTypes('waiting', 'prioritized')));
    return counts.reduce((a, b) => a + b, 0);
  }

  /** Whether a failed call's job is still kept (for FAILED_RETENTION_HOURS), so it can run again. */
  async isReplayable(callId: string): Promise<boolean> {
    const job = await this.findCall(callId);
    return job !== undefined && (await job.isFailed());
  }

  /** Runs a failed call's job again as run `run`, with a fresh attempt budget. */
  async replay(callId: string, run: number): Promise<void> {
    const job = await this.findCall(callId);
    if (!job) throw new Error(`the job of call ${callId} vanished during its replay`);
    await job.updateData({ ...job.data, run });
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  }

  /** A call's job, in whichever partition holds it (QUEUE_PARTITIONS may have changed since it was queued). */
  private async findCall(callId: string): Promise<Job<WebhookCallJob> | undefined> {
    const jobs = await Promise.all(this.callPartitions.map((q) => q.getJob(callId)));
    return jobs.find((job) => job !== undefined);
  }

  async onModuleInit(): Promise<void> {
    await connectRedis(this.connection).catch(() => undefined); // /ready reports it; enqueue answers 503 meanwhile
    registerQueueMetrics([
      partitionedCounter(CALLS_QUEUE, this.callPartitions as never),
      resultsCounter(new ResultStream(this.connection), this.partitions),
    ]);
  }

  async onApplicationShutdown(): Promise<void> {
    // BullMQ does not close connections it was given.
    await Promise.all(this.callPartitions.map((q) => q.close()));
    await closeRedis(this.connection);
  }
}

/** The results streams as the queue gauges see them: waiting (not yet read) and active (read, not yet acknowledged). */
function resultsCounter(stream: ResultStream, partitions: number): QueueCounter {
  const depths = () => Promise.all(Array.from({ length: partitions }, (_, p) => stream.depth(p)));
  return {
    name: RESULTS_QUEUE,
    async getJobCounts() {
      const all = await depths();
      return {
        waiting: all.reduce((sum, d) => sum + d.waiting, 0),
        active: all.reduce((sum, d) => sum + d.active, 0),
      };
    },
    async getJobs() {
      const oldest = (await depths()).flatMap((d) => (d.oldestAt === undefined ? [] : [d.oldestAt]));
      return oldest.length > 0 ? [{ timestamp: Math.min(...oldest) }] : [];
    },
  };
}
