/** BullMQ's largest job priority (2^21 - 1); larger values are refused. */
export const MAX_JOB_PRIORITY = 2 ** 21 - 1;

/**
 * The BullMQ priority of the `index`-th call (0-based) a bot enqueues at once, when the highest
 * rank among the bot's unfinished calls is `rankBefore` (0 when it has none): the next ranks. A
 * partition's queue takes the lowest number first, so a bot's ranks grow only while it has a
 * backlog: a quiet bot's call (rank 1) passes a flooding bot's backlog instead of queueing behind
 * it, two flooding bots take turns, and a bot's own calls keep their order. Equal priorities keep
 * their arrival order.
 */
export function fairPriority(rankBefore: number, index: number): number {
  return Math.min(Math.max(0, rankBefore) + index + 1, MAX_JOB_PRIORITY);
}
