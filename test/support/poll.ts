import { inspect } from 'node:util';

export interface PollOptions {
  /** Give up after this long. Default 10 000 ms. */
  timeoutMs?: number;
  /** Pause between attempts. Default 25 ms. */
  intervalMs?: number;
  /** What was awaited; starts the error thrown on deadline. A function is read at the deadline. */
  message: string | (() => string);
}

/**
 * Calls `fn` until it returns something other than `undefined`, `null` or `false`, and returns
 * that. An exception counts as "not yet". On deadline, throws an Error carrying `message` and the
 * last value or exception seen, so a failing test says what it was waiting for and what it saw.
 */
export async function pollUntil<T>(
  fn: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  { timeoutMs = 10_000, intervalMs = 25, message }: PollOptions,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: { value: unknown } | { error: unknown } = { value: undefined };
  for (let attempt = 1; ; attempt++) {
    try {
      const value = await beforeDeadline(fn, deadline);
      if (value !== undefined && value !== null && value !== false) return value;
      last = { value };
    } catch (error) {
      if (error !== DEADLINE) last = { error };
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      const seen = 'error' in last ? `last error: ${describe(last.error)}` : `last value: ${describe(last.value)}`;
      const what = typeof message === 'function' ? message() : message;
      throw new Error(`${what} (not met within ${timeoutMs} ms after ${attempt} attempts; ${seen})`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, remaining)));
  }
}

/** Rejects an attempt still running at the deadline; told apart from the attempt's own errors by identity. */
const DEADLINE = new Error('deadline');

/** Runs one attempt, but stops waiting for it at the deadline so a hung call cannot overrun. */
async function beforeDeadline<T>(fn: () => Promise<T> | T, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(DEADLINE), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([Promise.resolve().then(fn), expired]);
  } finally {
    clearTimeout(timer);
  }
}

function describe(value: unknown): string {
  if (value instanceof Error) return value.stack ?? value.message;
  return inspect(value, { depth: 4, breakLength: Infinity });
}
