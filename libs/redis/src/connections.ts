import Redis, { RedisOptions } from 'ioredis';
import { TIMED_OUT, within } from './time-limit';

/**
 * - `command`: request/response work on the API's hot path. No offline queue and one retry, so a
 *   command fails fast while Redis is down (the API answers 503) instead of hanging or being
 *   replayed later behind the caller's back.
 * - `blocking`: BullMQ workers and their blocking reads; BullMQ requires maxRetriesPerRequest null
 *   and keeps retrying until Redis is back.
 */
export type RedisPurpose = 'command' | 'blocking';

const BLOCKING_COMMANDS = ['bzpopmin', 'bzpopmax', 'bzmpop', 'blpop', 'brpop', 'brpoplpush', 'blmove', 'blmpop', 'xread', 'xreadgroup', 'wait'];

export function createRedis(url: string, purpose: RedisPurpose, connectionName: string, tuning: { autoPipelining?: boolean } = {}): Redis {
  const options: RedisOptions = {
    connectionName,
    lazyConnect: true,
    connectTimeout: 2_000,
    // Commands issued in one tick leave in one write: far fewer syscalls under load. Blocking
    // commands never join a batch (BullMQ's worker blocks on a duplicate of its connection).
    enableAutoPipelining: tuning.autoPipelining ?? false,
    autoPipeliningIgnoredCommands: BLOCKING_COMMANDS,
    // Reconnect forever, quickly at first: a restarted Redis is picked up within about a second.
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 1_000),
    ...(purpose === 'command'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1 }
      : { enableOfflineQueue: true, maxRetriesPerRequest: null }),
  };
  return new Redis(url, options);
}

/** Connects a lazy client; resolves when it is ready, rejects after `timeoutMs`. */
export async function connectRedis(client: Redis, timeoutMs = 3_000): Promise<void> {
  if (client.status === 'ready') return;
  const ready = client.status === 'wait' ? client.connect() : new Promise<void>((resolve) => client.once('ready', () => resolve()));
  if ((await within(ready, timeoutMs)) === TIMED_OUT) throw new Error(`Redis did not answer within ${timeoutMs} ms`);
}

/**
 * Closes a client politely (QUIT, so replies in flight arrive), falling back to a hard disconnect
 * when Redis is unreachable or the QUIT is not answered within `timeoutMs`: shutdown never hangs
 * on a connection.
 */
export async function closeRedis(client: Redis, timeoutMs = 1_000): Promise<void> {
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
