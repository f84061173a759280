import { STATS_BUCKETS, summarize } from './bot-stats';

describe(summarize.name, () => {
  const sut = summarize;

  it('is empty with no calls', () => {
    expect(sut([])).toEqual({
      windowSeconds: 3600,
      calls: { succeeded: 0, failed: 0, total: 0 },
      latencySeconds: { p50: null, p90: null, p99: null },
    });
  });

  it('adds the minutes and interpolates quantiles inside the bucket that holds them', () => {
    const stats = sut([
      { succeeded: '90', 'le:0.01': '50', 'le:0.025': '40' },
      { succeeded: '5', failed: '5', 'le:0.025': '5', 'le:1': '5' },
    ]);
    expect(stats.calls).toEqual({ succeeded: 95, failed: 5, total: 100 });
    // rank 50 is the last of the 50 calls in (0.005, 0.01]
    expect(stats.latencySeconds.p50).toBe(0.01);
    // rank 90 is the 40th of 45 in (0.01, 0.025]
    expect(stats.latencySeconds.p90).toBeCloseTo(0.01 + 0.015 * (40 / 45), 4);
    // rank 99 is the 4th of 5 in (0.5, 1]
    expect(stats.latencySeconds.p99).toBeCloseTo(0.5 + 0.5 * (4 / 5), 4);
  });

  it('reports the lower bound when a quantile falls past the last finite bucket', () => {
    expect(sut([{ failed: '1', 'le:Infinity': '1' }]).latencySeconds.p99).toBe(STATS_BUCKETS[STATS_BUCKETS.length - 2]);
  });
});
