import { Gauge } from 'prom-client';
import { registry } from './metrics';

export interface QueueCounter {
  name: string;
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
  getJobs(types: string[], start: number, end: number, asc: boolean): Promise<Array<{ timestamp: number } | undefined>>;
}

const STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;

/**
 * Queue depth gauges, read from Redis when scraped. Only the API registers them: workers would
 * each export the same figure and multiply it in sums. Several API processes export equal values;
 * aggregate with max by (queue, state).
 */
export function registerQueueMetrics(queues: QueueCounter[]): void {
  new Gauge({
    name: 'hookrunner_queue_jobs',
    help: 'Jobs in each queue by state (waiting, active, delayed, failed, completed).',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const counts = await Promise.all(queues.map((q) => q.getJobCounts(...STATES).catch(() => undefined)));
      queues.forEach((q, i) => {
        for (const state of STATES) if (counts[i]) this.set({ queue: q.name, state }, counts[i][state] ?? 0);
      });
    },
  });
  new Gauge({
    name: 'hookrunner_queue_oldest_waiting_seconds',
    help: 'Age of the oldest job waiting for a worker (0 when none waits).',
    labelNames: ['queue'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const oldest = await Promise.all(queues.map((q) => q.getJobs(['waiting'], 0, 0, true).catch(() => [])));
      queues.forEach((q, i) => {
        const job = oldest[i][0];
        this.set({ queue: q.name }, job ? Math.max(0, (Date.now() - job.timestamp) / 1000) : 0);
      });
    },
  });
}

/**
 * One queue as the gauges see it, summed over its partitions. Prioritized jobs (every call is,
 * for fair queuing) count as waiting; the oldest waiting is the oldest head of any partition's
 * wait list or prioritized set (the head of a prioritized set is its best-ranked job, a close
 * enough stand-in for its oldest).
 */
export function partitionedCounter(name: string, partitions: QueueCounter[]): QueueCounter {
  return {
    name,
    async getJobCounts(...types: string[]) {
      const all = await Promise.all(partitions.map((q) => q.getJobCounts(...types, 'prioritized')));
      const sum: Record<string, number> = {};
      for (const counts of all) {
        for (const [state, n] of Object.entries(counts)) {
          const key = state === 'prioritized' && !types.includes('prioritized') ? 'waiting' : state;
          sum[key] = (sum[key] ?? 0) + (n ?? 0);
        }
      }
      return sum;
    },
    async getJobs(types: string[], start: number, end: number, asc: boolean) {
      const heads = await Promise.all(
        partitions.flatMap((q) => [q.getJobs(types, start, end, asc), q.getJobs(['prioritized'], start, end, asc)]),
      );
      const jobs = heads.flat().filter((job): job is { timestamp: number } => job !== undefined);
      return jobs.sort((a, b) => a.timestamp - b.timestamp).slice(0, end - start + 1);
    },
  };
}
