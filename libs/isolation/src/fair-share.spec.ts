import fc from 'fast-check';
import { reserveOf, shareConcurrency } from './fair-share';

describe(shareConcurrency.name, () => {
  const sut = shareConcurrency;

  it('gives one busy partition all of it, idle ones their reserve on top', () => {
    expect(sut(100, [false, true, false, false])).toEqual([3, 100, 3, 3]);
  });

  it('splits evenly between busy partitions', () => {
    expect(sut(100, [true, true, false, true])).toEqual([34, 33, 3, 33]);
  });

  it('shares evenly when nothing is busy', () => {
    expect(sut(100, [false, false, false, false])).toEqual([25, 25, 25, 25]);
  });

  it('never starves a partition, never gives the busy more than the total, never less than an even share', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 64 }), (total, busy) => {
        const shares = sut(total, busy);
        const busyCount = busy.filter(Boolean).length;
        expect(shares.every((s) => Number.isInteger(s) && s >= 1)).toBe(true);
        if (busyCount === 0) return;
        const busyShares = shares.filter((_, i) => busy[i]);
        const sum = busyShares.reduce((a, b) => a + b, 0);
        expect(sum).toBeLessThanOrEqual(Math.max(total, busyCount));
        expect(Math.max(...busyShares) - Math.min(...busyShares)).toBeLessThanOrEqual(1);
        expect(Math.min(...busyShares)).toBeGreaterThanOrEqual(Math.max(1, Math.floor(total / busyCount)));
        shares.forEach((s, i) => !busy[i] && expect(s).toBe(reserveOf(total, busy.length)));
      }),
    );
  });
});
