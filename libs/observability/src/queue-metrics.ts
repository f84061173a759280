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
        for (const state of STATES) if (counts[i]) this.set({ queue: q.name, state }, counts[i]![state] ?? 0);
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
