/** BullMQ's largest job priority (2^21 - 1); larger values are refused. */
export const MAX_JOB_PRIORITY = 2 ** 21 - 1;

/**
 * The BullMQ priority of the `index`-th call (0-based) of a batch, for a bot that had `pending`
 * unfinished calls before it: one more than the calls of that bot ahead of it. A partition's
 * queue takes the lowest number first, so a bot's n-th waiting call ranks with every other
 * bot's n-th waiting call: a quiet bot's call passes a flooding bot's backlog instead of
 * queueing behind it, and two flooding bots share the workers evenly. Equal priorities keep
 * their arrival order.
 */
export function fairPriority(pending: number, index: number): number {
  return Math.min(Math.max(0, pending) + index + 1, MAX_JOB_PRIORITY);
}
