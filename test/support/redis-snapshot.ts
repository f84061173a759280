import type Redis from 'ioredis';

/**
 * Every key of `redis` with its value, in key order, less the keys `skip` matches: taken before
 * and after a request, any write it made shows up as a difference. Streams are compared by length.
 */
export async function redisSnapshot(redis: Redis, skip?: RegExp): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const key of (await redis.keys('*')).filter((k) => !skip?.test(k)).sort()) {
    const type = await redis.type(key);
    if (type === 'string') out[key] = await redis.get(key);
    else if (type === 'hash') out[key] = await redis.hgetall(key);
    else if (type === 'list') out[key] = await redis.lrange(key, 0, -1);
    else if (type === 'set') out[key] = (await redis.smembers(key)).sort();
    else if (type === 'zset') out[key] = await redis.zrange(key, 0, -1, 'WITHSCORES');
    else if (type === 'stream') out[key] = await redis.xlen(key);
    else out[key] = type;
  }
  return out;
}

/**
 * A bot's rate bucket: metering, not state. It expires a few seconds after the bot's last accepted
 * call, which may fall between two snapshots.
 */
export const RATE_BUCKET_KEY = /^hookrunner:bot:\{[^}]*\}:rate$/;
