import {
  TURN_AWAY_BURST,
  TURN_AWAY_PER_SECOND,
  turnAwayPause,
  MAX_DEFER_MS,
  MAX_TURN_AWAY_PAUSE_MS,
  nextDeferral,
  updateAverage,
} from './deferral';

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

describe(turnAwayPause.name, () => {
  const sut = turnAwayPause;

  it('lets a burst through without a pause, then paces turned-away calls at TURN_AWAY_PER_SECOND', () => {
    let pace = { dueAt: 0 };
    const pauses: number[] = [];
    for (let i = 0; i < TURN_AWAY_BURST + 3; i++) {
      const next = sut(pace, 1_000);
      pauses.push(next.pauseMs);
      pace = next.pace;
    }
    const interval = 1_000 / TURN_AWAY_PER_SECOND;
    expect(pauses.slice(0, TURN_AWAY_BURST + 1)).toEqual(new Array<number>(TURN_AWAY_BURST + 1).fill(0));
    expect(pauses.slice(TURN_AWAY_BURST + 1)).toEqual([interval, 2 * interval]);
  });

  it('forgets a backlog that time has paid off', () => {
    let pace = { dueAt: 0 };
    for (let i = 0; i < 500; i++) pace = sut(pace, 1_000).pace;
    expect(sut(pace, 1_000 + 10_000).pauseMs).toBe(0);
  });

  it('never holds a slot longer than MAX_TURN_AWAY_PAUSE_MS', () => {
    let pace = { dueAt: 0 };
    let longest = 0;
    for (let i = 0; i < 10_000; i++) {
      const next = sut(pace, 1_000);
      longest = Math.max(longest, next.pauseMs);
      pace = next.pace;
    }
    expect(longest).toBe(MAX_TURN_AWAY_PAUSE_MS);
  });
});
