/**
 * Queue names and the BullMQ key prefix.
 *
 * These values are persisted in Redis keys: never change them once shipped, or the jobs
 * already waiting under the old names are stranded.
 *
 * The prefix carries a hash tag so that every key BullMQ touches for these queues lands in one
 * Redis Cluster slot (BullMQ's Lua scripts need all of a queue's keys in one slot).
 */
export const QUEUE_PREFIX = '{hookrunner}';

/** Webhook calls waiting for a worker. Job id = callId. */
export const CALLS_QUEUE = 'calls';

/**
 * The key prefix of partition `partition` of the calls queue and of the results queue
 * (QUEUE_PARTITIONS of each; a bot's calls and results all in its one partition). Partition 0
 * keeps QUEUE_PREFIX, so jobs queued before partitions existed run on; partition p > 0 has its own
 * hash tag `{hookrunner:p}`, so on a Redis Cluster the partitions spread over the masters.
 * Persisted: never change them.
 */
export function partitionPrefix(partition: number): string {
  return partition === 0 ? QUEUE_PREFIX : `{hookrunner:${partition}}`;
}

/**
 * The results queue of earlier versions (a BullMQ queue): results are now handed over on the
 * partition's results stream (keys.results). Persisted: a results process of this version no
 * longer reads it, so drain it with the old version before upgrading the results consumers.
 */
export const RESULTS_QUEUE = 'results';

/** The consumer group of the results consumers on every partition's results stream. Persisted: never change it. */
export const RESULTS_GROUP = 'results';

/** The BullMQ job name used on both queues. */
export const CALL_JOB = 'call';

/**
 * How a result is retried when Redis trouble stops the results consumer: up to 50 tries, 100 ms
 * doubling to at most 5 s between them (several minutes of trouble in all). Every step of a
 * result is idempotent, so a retry is always safe.
 */
export const RESULT_RETRY = { attempts: 50, baseMs: 100, capMs: 5_000 } as const;

/**
 * How long the merge's applied-marker and the publish's published-marker live. They only need to
 * outlive the retries of one result job (minutes: a stalled job is taken over within seconds, a
 * failed one retried within RESULT_RETRY's few minutes); an hour leaves a wide margin without
 * keeping ~300 bytes a call for a day. Only if every results consumer stayed down for longer than
 * this right after one crashed mid-result could that result be merged twice.
 */
export const RESULT_MARKER_TTL_SECONDS = 3_600;

/**
 * How long a finished call's event is kept beside its record, for a waited enqueue (`waitMs`)
 * whose idempotency key names a call that already ended: such a replay is a client retrying
 * within seconds. Five minutes bound the copy to a few minutes of events; a later replay waits
 * and answers 202.
 */
export const CALL_EVENT_TTL_SECONDS = 300;
