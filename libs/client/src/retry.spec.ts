import { mayRetry, retryDelayMs } from './retry';

describe('mayRetry', () => {
  it('retries a 503 always, other 5xx and network errors only when the request cannot act twice', () => {
    expect(mayRetry({ status: 503 }, false)).toBe(true);
    expect(mayRetry({ status: 500 }, true)).toBe(true);
    expect(mayRetry({ status: 500 }, false)).toBe(false);
    expect(mayRetry({}, true)).toBe(true);
    expect(mayRetry({}, false)).toBe(false);
    expect(mayRetry({ status: 429 }, true)).toBe(false);
    expect(mayRetry({ status: 400 }, true)).toBe(false);
  });
});

describe('retryDelayMs', () => {
  it('doubles from the base with jitter, never past the cap, and honours Retry-After', () => {
    for (let i = 0; i < 100; i++) {
      const first = retryDelayMs(1, { baseDelayMs: 100 });
      expect(first).toBeGreaterThanOrEqual(50);
      expect(first).toBeLessThanOrEqual(100);
      expect(retryDelayMs(3, { baseDelayMs: 100 })).toBeGreaterThanOrEqual(200);
      expect(retryDelayMs(20, { baseDelayMs: 100, maxDelayMs: 1_000 })).toBeLessThanOrEqual(1_000);
      expect(retryDelayMs(1, { baseDelayMs: 100 }, 1)).toBe(1_000);
    }
  });
});
