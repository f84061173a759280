import { MAX_DEFER_MS, nextDeferral, updateAverage } from './deferral';

describe(nextDeferral.name, () => {
  const sut = nextDeferral;

  it('spaces deferred calls by the time a slot takes to free', () => {
    let schedule = { cursor: 0 };
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const next = sut(schedule, 1_000, 200, 20);
      delays.push(next.delayMs);
      schedule = next.schedule;
    }
    expect(delays).toEqual([10, 20, 30, 40]);
  });

  it('starts again from now once the schedule is in the past', () => {
    expect(sut({ cursor: 500 }, 1_000, 200, 20).delayMs).toBe(10);
  });

  it('spreads calls due past MAX_DEFER_MS over its second half, and the schedule does not run away', () => {
    let schedule = { cursor: 0 };
    const late: number[] = [];
    let i = 0;
    const random = () => (i++ % 10) / 10;
    for (let n = 0; n < 10_000; n++) {
      const next = sut(schedule, 0, 3_000, 20, random);
      expect(next.delayMs).toBeLessThanOrEqual(MAX_DEFER_MS);
      if (n >= 200) late.push(next.delayMs);
      schedule = next.schedule;
    }
    expect(Math.min(...late)).toBe(MAX_DEFER_MS / 2);
    expect(Math.max(...late)).toBe(MAX_DEFER_MS * 0.95);
    expect(schedule.cursor).toBe(MAX_DEFER_MS);
  });
});

describe(updateAverage.name, () => {
  it('takes the first sample whole, then moves a fifth of the way', () => {
    expect(updateAverage(undefined, 100)).toBe(100);
    expect(updateAverage(100, 200)).toBe(120);
  });
});
