import fc from 'fast-check';
import { MAX_RETRY_DELAY_MS, nextRetryDelay } from './backoff';

describe(nextRetryDelay.name, () => {
  const sut = nextRetryDelay;
  const low = () => 0;
  const high = () => 0.999_999;

  it('doubles the base with each attempt', () => {
    expect([1, 2, 3, 4].map((n) => sut(n, 1000, { random: high }))).toEqual([999, 1999, 3999, 7999]);
  });

  it('jitters between 50% and 100% of the exponential delay', () => {
    expect(sut(3, 1000, { random: low })).toBe(2000);
    expect(sut(3, 1000, { random: () => 0.5 })).toBe(3000);
    expect(sut(3, 1000, { random: high })).toBe(3999);
  });

  it('caps at 60 s by default, still jittered below the cap', () => {
    expect(MAX_RETRY_DELAY_MS).toBe(60_000);
    expect(sut(20, 1000, { random: high })).toBe(59_999);
    expect(sut(20, 1000, { random: low })).toBe(30_000);
    expect(sut(1000, 1000, { random: high })).toBe(59_999);
  });

  it('honours a custom cap', () => {
    expect(sut(5, 1000, { random: high, capMs: 5000 })).toBe(4999);
  });

  it('waits at least Retry-After, within the cap', () => {
    expect(sut(1, 1000, { random: low, retryAfterMs: 10_000 })).toBe(10_000);
    expect(sut(4, 1000, { random: low, retryAfterMs: 10 })).toBe(4000);
    expect(sut(1, 1000, { random: low, retryAfterMs: 120_000 })).toBe(60_000);
    expect(sut(1, 1000, { random: low, retryAfterMs: 120_000, capMs: 90_000 })).toBe(90_000);
  });

  it('treats a base of 0 as no delay', () => {
    expect(sut(1, 0)).toBe(0);
    expect(sut(5000, 0)).toBe(0);
  });

  it('treats attemptsMade below 1 as the first failure', () => {
    expect(sut(0, 1000, { random: low })).toBe(500);
  });

  it('uses Math.random when no random is given', () => {
    const delay = sut(2, 1000);
    expect(delay).toBeGreaterThanOrEqual(1000);
    expect(delay).toBeLessThanOrEqual(2000);
  });

  it('stays within [50%, 100%] of the capped exponential and never above the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 600_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.option(fc.integer({ min: 0, max: 1e9 }), { nil: undefined }),
        (attempts, base, r, retryAfterMs) => {
          const ceiling = Math.min(MAX_RETRY_DELAY_MS, base * 2 ** (attempts - 1));
          const delay = sut(attempts, base, { random: () => r, retryAfterMs });
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeLessThanOrEqual(MAX_RETRY_DELAY_MS);
          expect(delay).toBeGreaterThanOrEqual(
            Math.min(MAX_RETRY_DELAY_MS, Math.max(Math.floor(ceiling / 2), retryAfterMs ?? 0)),
          );
          if (retryAfterMs === undefined) expect(delay).toBeLessThanOrEqual(ceiling);
        },
      ),
    );
  });
});
