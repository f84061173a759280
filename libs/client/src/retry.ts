/** How requests are retried. */
export interface RetryOptions {
  /** Tries in all, the first included. Default 4; 1 turns retries off. */
  attempts?: number;
  /** Delay before the second try, doubled before each next one (with jitter), in ms. Default 200. */
  baseDelayMs?: number;
  /** Longest delay between tries, in ms. Default 5000. */
  maxDelayMs?: number;
}

/**
 * Whether a failed try may be tried again. A 503 means nothing was changed, so it is always safe;
 * another 5xx or a network error only for a request that cannot act twice (a read, a PUT or
 * DELETE, an enqueue with an idempotency key).
 */
export function mayRetry(outcome: { status?: number }, idempotent: boolean): boolean {
  if (outcome.status === undefined) return idempotent;
  if (outcome.status === 503) return true;
  return outcome.status >= 500 && idempotent;
}

/** The wait before try `attempt + 1` (attempt is 1-based): exponential, 50–100% jitter, capped. */
export function retryDelayMs(attempt: number, options: RetryOptions, retryAfterSeconds?: number): number {
  const base = options.baseDelayMs ?? 200;
  const cap = options.maxDelayMs ?? 5_000;
  const exponential = Math.min(cap, base * 2 ** (attempt - 1));
  const jittered = exponential / 2 + (Math.random() * exponential) / 2;
  return retryAfterSeconds === undefined ? jittered : Math.min(cap, Math.max(jittered, retryAfterSeconds * 1000));
}
