/** Options of {@link nextRetryDelay}. */
export interface RetryDelayOptions {
  /** The endpoint's Retry-After in ms: the delay is at least this, still capped. */
  retryAfterMs?: number;
  /** Source of jitter in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Upper bound of any delay. Default 60000. */
  capMs?: number;
}

/** Default {@link RetryDelayOptions.capMs}. */
export const MAX_RETRY_DELAY_MS = 60_000;

/**
 * Delay before the next try, with `attemptsMade` 1 after the first failure: `baseMs * 2^(attemptsMade-1)`,
 * capped at `capMs`, then jittered to 50–100% of that ("equal jitter") so retries of calls that
 * failed together spread out without any delay collapsing to nothing. A Retry-After raises the
 * delay to at least its value, within the cap.
 */
export function nextRetryDelay(attemptsMade: number, baseMs: number, opts: RetryDelayOptions = {}): number {
  const { retryAfterMs = 0, random = Math.random, capMs = MAX_RETRY_DELAY_MS } = opts;
  // Past 2^30 every real base is beyond the cap; the bound also keeps 0 × Infinity out.
  const exponent = Math.min(30, Math.max(1, Math.floor(attemptsMade)) - 1);
  const ceiling = Math.min(capMs, baseMs * 2 ** exponent);
  const jittered = Math.floor(ceiling / 2 + (random() * ceiling) / 2);
  return Math.min(capMs, Math.max(jittered, retryAfterMs));
}
