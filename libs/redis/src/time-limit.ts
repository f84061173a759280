/** What {@link within} resolves to when the time ran out first. */
export const TIMED_OUT = Symbol('timed out');

/**
 * Waits for `promise` at most `ms` milliseconds: its value, or TIMED_OUT. The promise itself goes
 * on (nothing here can cancel it); the timer never outlives the wait.
 */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
