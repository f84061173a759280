import type { RedisClient } from '@hookrunner/redis';
import { redisReconnectsTotal, redisUp } from './metrics';

/** Mirrors a connection's state into hookrunner_redis_up and counts its reconnects. */
export function watchRedis(client: RedisClient): void {
  redisUp.set(client.status === 'ready' ? 1 : 0);
  client.on('ready', () => redisUp.set(1));
  client.on('close', () => redisUp.set(0));
  client.on('reconnecting', () => redisReconnectsTotal.inc());
}
