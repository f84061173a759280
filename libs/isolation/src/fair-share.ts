/**
 * How many calls each partition's worker may run at once in one process.
 *
 * The busy partitions (those with calls ready to run and waiting) share `total` evenly, so a
 * partition full of one bot's backlog cannot take more than its share while another partition has
 * work, and takes all of it when it is the only one busy (work-conserving). A partition with
 * nothing waiting may run up to `total`: a call arriving there starts at once, and if calls pile
 * up it becomes busy and is held to its share at the next rebalance. Shares only shrink at once;
 * BullMQ takes a raised concurrency up when one of the worker's running calls ends, which is why
 * an idle partition is never left with a small share to grow from.
 */
export function shareConcurrency(total: number, busy: readonly boolean[]): number[] {
  const busyCount = busy.filter(Boolean).length;
  if (busyCount === 0) return busy.map(() => total);
  const base = Math.floor(total / busyCount);
  let extra = total - base * busyCount;
  return busy.map((isBusy) => {
    if (!isBusy) return total;
    const share = base + (extra > 0 ? 1 : 0);
    if (extra > 0) extra--;
    return Math.max(1, share);
  });
}
