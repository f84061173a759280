import fc from 'fast-check';
import { shareConcurrency } from './fair-share';

describe(shareConcurrency.name, () => {
  const sut = shareConcurrency;

  it('gives one busy partition all of it; idle ones may take what arrives', () => {
    expect(sut(100, [false, true, false, false])).toEqual([100, 100, 100, 100]);
  });

  it('splits evenly between busy partitions', () => {
    expect(sut(100, [true, true, false, true])).toEqual([34, 33, 100, 33]);
  });

  it('never starves a partition, never gives the busy ones more than the total, nor less than an even share', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 64 }),
        (total, busy) => {
          const shares = sut(total, busy);
          const busyCount = busy.filter(Boolean).length;
          expect(shares.every((s) => Number.isInteger(s) && s >= 1)).toBe(true);
          shares.forEach((s, i) => !busy[i] && expect(s).toBe(total));
          if (busyCount === 0) return;
          const busyShares = shares.filter((_, i) => busy[i]);
          expect(busyShares.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(Math.max(total, busyCount));
          expect(Math.max(...busyShares) - Math.min(...busyShares)).toBeLessThanOrEqual(1);
          expect(Math.min(...busyShares)).toBeGreaterThanOrEqual(Math.max(1, Math.floor(total / busyCount)));
        },
      ),
    );
  });
});
