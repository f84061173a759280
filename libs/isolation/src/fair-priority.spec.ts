import { fairPriority, MAX_JOB_PRIORITY } from './fair-priority';

describe(fairPriority.name, () => {
  const sut = fairPriority;

  it('ranks a bot’s calls after its own pending ones only', () => {
    expect(sut(0, 0)).toBe(1);
    expect(sut(0, 9)).toBe(10);
    expect(sut(5_000, 0)).toBe(5_001);
  });

  it('puts a quiet bot ahead of a flooding bot’s backlog', () => {
    const flood = Array.from({ length: 10_000 }, (_, i) => sut(0, i));
    const quiet = sut(1, 0);
    expect(flood.filter((p) => p < quiet)).toHaveLength(1);
  });

  it('stays within BullMQ’s range', () => {
    expect(sut(MAX_JOB_PRIORITY, 100)).toBe(MAX_JOB_PRIORITY);
    expect(sut(-3, 0)).toBe(1);
  });
});
