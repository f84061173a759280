import fc from 'fast-check';
import { partitionOf } from './partition';

describe(partitionOf.name, () => {
  const sut = partitionOf;

  it('maps every bot to one partition in range, the same each time', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 128 }),
        fc.integer({ min: 1, max: 256 }),
        (botId, partitions) => {
          const p = sut(botId, partitions);
          expect(Number.isInteger(p) && p >= 0 && p < partitions).toBe(true);
          expect(sut(botId, partitions)).toBe(p);
        },
      ),
    );
  });

  it('keeps known values (a change would move every bot between partitions)', () => {
    expect([sut('bot-a', 4), sut('bot-b', 4), sut('quiet', 4), sut('flood', 4)]).toEqual([0, 1, 3, 3]);
  });

  it('spreads bots evenly enough', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4_000; i++) counts[sut(`bot-${i}`, 4)]++;
    for (const n of counts) expect(n).toBeGreaterThan(800);
  });

  it('puts everything in partition 0 when there is one', () => {
    expect(sut('anything', 1)).toBe(0);
    expect(sut('foobar', 2 ** 32)).toBe(0xbf9cf968); // FNV-1a's published test vector
  });
});
