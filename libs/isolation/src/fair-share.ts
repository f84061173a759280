/**
 * How many calls each partition's worker may run at once in one process.
 *
 * The busy partitions (those with calls ready to run) share `total` evenly, so a partition full of
 * one bot's backlog cannot take more than its share while another partition has work, and takes
 * all of it when it is the only one busy (work-conserving). An idle partition keeps a small reserve
 * on top (`reserveOf(total, partitions)`), so a call arriving there starts at once, before the next
 * rebalance sees the partition busy. When nothing is busy, every partition gets an even share.
 */
export function shareConcurrency(total: number, busy: readonly boolean[]): number[] {
  const n = busy.length;
  const busyCount = busy.filter(Boolean).length;
  if (busyCount === 0) return busy.map(() => Math.max(1, Math.ceil(total / n)));
  const reserve = reserveOf(total, n);
  const base = Math.floor(total / busyCount);
  let extra = total - base * busyCount;
  return busy.map((isBusy) => {
    if (!isBusy) return reserve;
    const share = base + (extra > 0 ? 1 : 0);
    if (extra > 0) extra--;
    return Math.max(1, share);
  });
}

/** Slots an idle partition keeps: a tenth of an even share, at least 1. */
export function reserveOf(total: number, partitions: number): number {
  return Math.max(1, Math.ceil(total / partitions / 10));
}
