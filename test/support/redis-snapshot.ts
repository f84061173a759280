import type { ChainableCommander } from 'ioredis';
import type Redis from 'ioredis';
import { keys } from '@hookrunner/redis';

/** One key as a snapshot holds it: its Redis type and its whole value. */
export interface KeySnapshot {
  type: string;
  value: unknown;
}

/**
 * Every key of `redis` with its type and value, in key order, less the keys `skip` accepts: taken
 * before and after a request, any write it made shows up as a difference (compare with `toEqual`,
 * or key by key with node:util's isDeepStrictEqual).
 *
 * Keys are listed with SCAN, then each is read in one MULTI with its TYPE, so a key that expires or
 * is deleted between the two is left out, as if SCAN had never seen it, instead of showing up as an
 * empty value. Every type is read in full: a stream with its entries and its consumer groups.
 */
export async function redisSnapshot(redis: Redis, skip?: (key: string) => boolean): Promise<Map<string, KeySnapshot>> {
  const names = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'COUNT', 1000);
    for (const name of batch) if (!skip?.(name)) names.add(name);
    cursor = next;
  } while (cursor !== '0');
  const out = new Map<string, KeySnapshot>();
  for (const name of [...names].sort()) {
    const key = await readKey(redis, name);
    if (key) out.set(name, key);
  }
  return out;
}

/** The key's type and value read atomically, or undefined once it is gone. */
async function readKey(redis: Redis, name: string): Promise<KeySnapshot | undefined> {
  let type = await redis.type(name);
  // A key replaced by one of another type between TYPE and the read is read again: a few times at most.
  for (let tries = 0; tries < 5 && type !== 'none'; tries++) {
    // exec() answers null only to a transaction that WATCH aborted, and there is no WATCH here.
    const [[, typeNow], ...replies] = (await read(redis.multi().type(name), type, name).exec())!;
    if (typeNow === type) {
      const failed = replies.find(([err]) => err)?.[0];
      if (failed) throw failed;
      const values = replies.map(([, reply]) => reply);
      return { type, value: shape(type, values) };
    }
    type = String(typeNow);
  }
  if (type === 'none') return undefined;
  throw new Error(`redisSnapshot: ${name} kept changing type while being read`);
}

/** Queues the commands that read a key of `type` in full. */
function read(multi: ChainableCommander, type: string, name: string): ChainableCommander {
  switch (type) {
    case 'string':
      return multi.get(name);
    case 'hash':
      return multi.hgetall(name);
    case 'list':
      return multi.lrange(name, 0, -1);
    case 'set':
      return multi.smembers(name);
    case 'zset':
      return multi.zrange(name, 0, -1, 'WITHSCORES');
    case 'stream':
      // The groups too: an acknowledgement or a delivery changes a group, not the entries.
      return multi.xrange(name, '-', '+').xinfo('GROUPS', name);
    default:
      throw new Error(`redisSnapshot: ${name} is a ${type}, which it cannot read`);
  }
}

/** The replies of read() as one value that compares equal exactly when the key's content is. */
function shape(type: string, replies: unknown[]): unknown {
  if (type === 'set') return (replies[0] as string[]).sort();
  if (type !== 'stream') return replies[0];
  const [entries, groups] = replies as [unknown, unknown[][]];
  return {
    entries,
    // Each group as its fields (name, consumers, pending, last-delivered-id, entries-read), less
    // `lag`, which Redis derives from the rest and the stream.
    groups: groups.map((fields) => {
      const group: Record<string, unknown> = {};
      for (let i = 0; i < fields.length; i += 2) if (fields[i] !== 'lag') group[String(fields[i])] = fields[i + 1];
      return group;
    }),
  };
}

/**
 * Whether `key` is a bot's rate bucket (keys.rateBucket): metering, not state. Its value moves
 * only when tokens are taken, but it expires a few seconds after the bot's last accepted call,
 * which may fall between two snapshots. A snapshot that skips it should check the bucket of the
 * bot under test on its own where the test is about it.
 */
export function isRateBucket(key: string): boolean {
  const [head, tail] = keys.rateBucket('\n').split('\n');
  const botId = key.slice(head.length, key.length - tail.length);
  // Ids never hold braces: none can stretch the hash tag over another key's name.
  return key === keys.rateBucket(botId) && !/[{}]/.test(botId);
}
