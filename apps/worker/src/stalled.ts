/**
 * BullMQ fails a job that stalled more than maxStalledCount times with this reason, set inside
 * its Lua script (moveStalledJobsToWait), not as an error class: the text is the only signal.
 * stalled.spec.ts pins it against the installed BullMQ, so an upgrade that rewords it fails there.
 */
export const BULLMQ_STALLED_REASON = 'job stalled more than allowable limit';

/** True when BullMQ gave up on a job because its workers kept dying under it. */
export function isStalledTooOften(err: Error): boolean {
  return err.message.includes(BULLMQ_STALLED_REASON);
}
