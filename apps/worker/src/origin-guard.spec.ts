import { TURN_AWAY_BURST, TURN_AWAY_PER_SECOND } from '@hookrunner/isolation';
import { OriginGuard } from './origin-guard';

describe(OriginGuard.name, () => {
  const url = 'http://127.0.0.1:9/hook';
  const other = 'http://127.0.0.2:9/hook';

  it('turns away a flood’s calls past the cap at its origin’s pace, and not another origin’s', async () => {
    const sut = new OriginGuard(undefined, 1);
    const now = 1_000_000;
    expect((await sut.clear(url, 3_000, now)).kind).toBe('go');

    const pauses: number[] = [];
    for (let i = 0; i < TURN_AWAY_BURST + 3; i++) {
      const clearance = await sut.clear(url, 3_000, now);
      if (clearance.kind !== 'defer') throw new Error(`expected a deferral, got ${clearance.kind}`);
      pauses.push(clearance.pauseMs);
    }
    const interval = 1_000 / TURN_AWAY_PER_SECOND;
    expect(pauses.slice(0, TURN_AWAY_BURST + 1).every((pause) => pause === 0)).toBe(true);
    expect(pauses.slice(TURN_AWAY_BURST + 1)).toEqual([interval, 2 * interval]);

    // Another origin has its own cap and its own pace.
    expect((await sut.clear(other, 3_000, now)).kind).toBe('go');
    const otherDeferral = await sut.clear(other, 3_000, now);
    expect(otherDeferral).toMatchObject({ kind: 'defer', pauseMs: 0 });
  });
});
