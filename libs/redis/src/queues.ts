import { Queue, QueueOptions, Worker } from 'bullmq';
import type { RedisClient } from './connections';
import { QUEUE_PREFIX } from '@hookrunner/contracts';
import { TIMED_OUT, within } from './time-limit';

/**
 * BullMQ appends an entry to a queue's event stream at every job state change, for QueueEvents
 * listeners; Hookrunner has none (a call's record and the events stream say what happened). Its
 * default cap of 10,000 entries kept about 1 MB per partition for nobody; a short tail stays for
 * a person reading it with XRANGE. Every Queue object writes it to the queue's meta at creation,
 * so every one of them must pass it.
 */
export const QUEUE_STREAMS = { events: { maxLen: 100 } };

/** A producer-side queue on a shared connection (which the caller owns and closes). */
export function openQueue<T>(name: string, connection: RedisClient, options: Partial<QueueOptions> = {}): Queue<T> {
  return new Queue<T>(name, { connection, prefix: QUEUE_PREFIX, streams: QUEUE_STREAMS, ...options });
}

/** What ioredis and BullMQ say, in an error's message, when Redis cannot be reached. */
const UNAVAILABLE_MESSAGE = new RegExp(
  [
    'enableOfflineQueue',
    'Connection is closed',
    'Command timed out',
    "Stream isn't writeable",
    'ECONNREFUSED',
    'ECONNRESET',
    'ETIMEDOUT',
    'LOADING',
  ].join('|'),
);

/** True for errors that mean "Redis cannot be reached now", as opposed to a bug or a bad command. */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  return (
    err.name === 'MaxRetriesPerRequestError' ||
    UNAVAILABLE_MESSAGE.test(err.message) ||
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'ETIMEDOUT'
  );
}

/** Closes a BullMQ worker gracefully; false when it still had work after `graceMs`. */
export async function drainWithin(worker: Worker, graceMs: number): Promise<boolean> {
  return (await within(worker.close(), graceMs)) !== TIMED_OUT;
}
