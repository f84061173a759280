import type { RedisClient } from './connections';
import { keys } from './keys';

/** Latency buckets (seconds) of the per-bot stats: the metrics' chat buckets, as upper bounds. */
export const STATS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, Infinity];
export const STATS_WINDOW_MINUTES = 60;

/**
 * Counts one finished call into its bot's minute bucket: outcome counts and a latency histogram,
 * one small hash per bot and minute that expires after the window, so memory stays bounded by
 * bots × 60 × (2 + buckets) fields however many calls there are.
 */
export async function countCall(
  redis: RedisClient,
  botId: string,
  outcome: 'succeeded' | 'failed',
  latencySeconds: number,
  now = Date.now(),
): Promise<void> {
  const minute = Math.floor(now / 60_000);
  const key = keys.botStats(botId, minute);
  const bucket = STATS_BUCKETS.find((le) => latencySeconds <= le)!;
  // Single commands rather than a pipeline: on an auto-pipelining client they leave in the
  // caller's batch, where a pipeline of its own would cost a socket write per call.
  await Promise.all([
    redis.hincrby(key, outcome, 1),
    redis.hincrby(key, `le:${bucket}`, 1),
    redis.expire(key, (STATS_WINDOW_MINUTES + 1) * 60),
  ]);
}

export interface BotStats {
  windowSeconds: number;
  calls: { succeeded: number; failed: number; total: number };
  /** Estimated from the histogram like Prometheus's histogram_quantile; null with no calls. */
  latencySeconds: { p50: number | null; p90: number | null; p99: number | null };
}

/** Sums the window's minute buckets (one pipeline of 60 HGETALLs in the bot's slot). */
export function summarize(buckets: Record<string, string>[]): BotStats {
  const counts = new Map<number, number>();
  let succeeded = 0;
  let failed = 0;
  for (const hash of buckets) {
    succeeded += Number(hash.succeeded ?? 0);
    failed += Number(hash.failed ?? 0);
    for (const le of STATS_BUCKETS) counts.set(le, (counts.get(le) ?? 0) + Number(hash[`le:${le}`] ?? 0));
  }
  const total = succeeded + failed;
  return {
    windowSeconds: STATS_WINDOW_MINUTES * 60,
    calls: { succeeded, failed, total },
    latencySeconds: {
      p50: quantile(0.5, counts, total),
      p90: quantile(0.9, counts, total),
      p99: quantile(0.99, counts, total),
    },
  };
}

function quantile(q: number, counts: Map<number, number>, total: number): number | null {
  if (total === 0) return null;
  const rank = q * total;
  let seen = 0;
  let lower = 0;
  for (const le of STATS_BUCKETS) {
    const n = counts.get(le) ?? 0;
    if (seen + n >= rank && n > 0) {
      // The last bucket has no upper bound: report its lower one, as histogram_quantile does.
      if (le === Infinity) return lower;
      return round(lower + (le - lower) * ((rank - seen) / n));
    }
    seen += n;
    lower = le;
  }
  return lower;
}

function round(seconds: number): number {
  return Math.round(seconds * 10_000) / 10_000;
}
