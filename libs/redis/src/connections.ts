import Redis, { Cluster, ClusterOptions, RedisOptions } from 'ioredis';
import { TIMED_OUT, within } from './time-limit';

/** A connection to one Redis, or to a Redis Cluster through its seed nodes. */
export type RedisClient = Redis | Cluster;

/** Where Redis is: REDIS_URL, or the seed nodes of REDIS_CLUSTER_NODES (which then wins). */
export interface RedisTarget {
  redisUrl: string;
  /** Set in cluster mode. */
  redisClusterNodes?: { host: string; port: number }[];
}

/**
 * - `command`: request/response work on the API's hot path. No offline queue and one retry, so a
 *   command fails fast while Redis is down (the API answers 503) instead of hanging or being
 *   replayed later behind the caller's back.
 * - `blocking`: BullMQ workers and their blocking reads; BullMQ requires maxRetriesPerRequest null
 *   and keeps retrying until Redis is back.
 * - `subscriber`: a pub/sub connection. Like `blocking`, but it does not re-subscribe by itself
 *   after a reconnect: ioredis's own re-subscribe is a promise nobody holds, and a connection that
 *   drops again before it is answered rejects it unhandled, which ends the process. Its owner
 *   re-subscribes on `ready` and handles the failure.
 */
export type RedisPurpose = 'command' | 'blocking' | 'subscriber';

const BLOCKING_COMMANDS = [
  'bzpopmin',
  'bzpopmax',
  'bzmpop',
  'blpop',
  'brpop',
  'brpoplpush',
  'blmove',
  'blmpop',
  'xread',
  'xreadgroup',
  'wait',
];

/** Reconnect forever, quickly at first: a restarted Redis is picked up within about a second. */
const reconnectDelay = (times: number) => Math.min(50 * 2 ** Math.min(times, 5), 1_000);

export function createRedis(
  target: RedisTarget,
  purpose: RedisPurpose,
  connectionName: string,
  tuning: { autoPipelining?: boolean } = {},
): RedisClient {
  const perNode: RedisOptions = {
    connectionName,
    connectTimeout: 2_000,
    ...(purpose === 'command' ? { maxRetriesPerRequest: 1 } : { maxRetriesPerRequest: null }),
    ...(purpose === 'subscriber' ? { autoResubscribe: false } : {}),
  };
  const batching = {
    // Commands issued in one tick leave in one write (per node, on a cluster): far fewer syscalls
    // under load. Blocking commands never join a batch (BullMQ's worker blocks on a duplicate).
    enableAutoPipelining: tuning.autoPipelining ?? false,
    autoPipeliningIgnoredCommands: BLOCKING_COMMANDS,
    enableOfflineQueue: purpose !== 'command',
    lazyConnect: true,
  };
  if (target.redisClusterNodes) {
    const options: ClusterOptions = { ...batching, redisOptions: perNode, clusterRetryStrategy: reconnectDelay };
    return new Cluster(target.redisClusterNodes, options);
  }
  return new Redis(target.redisUrl, { ...perNode, ...batching, retryStrategy: reconnectDelay });
}

/**
 * Whether commands sent on this client are applied in the order they were sent. One connection
 * keeps order; a cluster spreads commands over several, so a write that must precede another is
 * awaited first there.
 */
export function keepsOrder(client: RedisClient): boolean {
  return !(client instanceof Cluster);
}

/** Connects a lazy client; resolves when it is ready, rejects after `timeoutMs`. */
export async function connectRedis(client: RedisClient, timeoutMs = 3_000): Promise<void> {
  if (client.status === 'ready') return;
  const ready =
    client.status === 'wait' ? client.connect() : new Promise<void>((resolve) => client.once('ready', () => resolve()));
  if ((await within(ready, timeoutMs)) === TIMED_OUT) throw new Error(`Redis did not answer within ${timeoutMs} ms`);
}

/**
 * Closes a client politely (QUIT, so replies in flight arrive), falling back to a hard disconnect
 * when Redis is unreachable or the QUIT is not answered within `timeoutMs`: shutdown never hangs
 * on a connection.
 */
export async function closeRedis(client: RedisClient, timeoutMs = 1_000): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  const quit = client.quit().then(
    () => true,
    () => false,
  );
  if ((await within(quit, timeoutMs)) !== true) client.disconnect();
}
