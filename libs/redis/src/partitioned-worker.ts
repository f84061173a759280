import { Job, Processor, Queue, Worker, WorkerOptions } from 'bullmq';
import { partitionPrefix } from '@hookrunner/contracts';
import { shareConcurrency } from '@hookrunner/isolation';
import type { RedisClient } from './connections';
import { drainWithin, openQueue } from './queues';

/** How often each partition's share of the concurrency is set again from which partitions have calls ready. */
const REBALANCE_MS = 250;

/**
 * One BullMQ worker per partition of a queue (the calls queue in the worker, the results queue in
 * the results consumer), in one process, sharing `concurrency` between them: the partitions with
 * jobs waiting split it evenly, one with none waiting runs what arrives (libs/isolation
 * shareConcurrency). A partition full of one bot's backlog thus takes at most its share while
 * others have work, and all of it when alone.
 */
export class PartitionedWorker<T> {
  readonly workers: Worker<T>[] = [];
  private readonly queues: Queue[] = [];
  private timer?: NodeJS.Timeout;
  private rebalancing = false;

  constructor(
    name: string,
    processor: Processor<T>,
    private readonly options: Omit<WorkerOptions, 'prefix' | 'concurrency'> & {
      connection: RedisClient;
      partitions: number;
      concurrency: number;
    },
  ) {
    const { partitions, concurrency, ...rest } = options;
    const shares = shareConcurrency(concurrency, new Array<boolean>(partitions).fill(false));
    for (let p = 0; p < partitions; p++) {
      this.workers.push(
        new Worker<T>(name, processor, { ...rest, prefix: partitionPrefix(p), concurrency: shares[p] }),
      );
      this.queues.push(openQueue(name, options.connection, { prefix: partitionPrefix(p) }));
    }
    if (partitions > 1) this.timer = setInterval(() => void this.rebalance(), REBALANCE_MS).unref();
  }

  on(event: 'failed', listener: (job: Job<T> | undefined, err: Error) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  on(event: 'failed' | 'error', listener: (...args: never[]) => void): void {
    for (const worker of this.workers) worker.on(event as never, listener as never);
  }

  /** Why the workers cannot take calls, if they cannot. */
  problem(): string | undefined {
    if (this.workers.some((w) => !w.isRunning())) return 'worker is not running';
    if (this.workers.some((w) => w.isPaused())) return 'worker is paused';
    return undefined;
  }

  /** Stops taking calls and waits for those in flight, at most `graceMs`; false when some still run. */
  async drain(graceMs: number): Promise<boolean> {
    clearInterval(this.timer);
    const drained = await Promise.all(this.workers.map((w) => drainWithin(w, graceMs)));
    await Promise.all(this.queues.map((q) => q.close()));
    return drained.every(Boolean);
  }

  private async rebalance(): Promise<void> {
    if (this.rebalancing) return;
    this.rebalancing = true;
    try {
      const ready = await Promise.all(this.queues.map((q) => q.getJobCountByTypes('wait', 'prioritized')));
      const shares = shareConcurrency(
        this.options.concurrency,
        ready.map((n) => n > 0),
      );
      shares.forEach((share, p) => {
        if (this.workers[p].concurrency !== share) this.workers[p].concurrency = share;
      });
    } catch {
      // Redis unavailable: keep the current shares until it is back.
    } finally {
      this.rebalancing = false;
    }
  }
}
