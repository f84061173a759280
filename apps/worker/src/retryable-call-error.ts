import type { CallError } from '@hookrunner/contracts';

/** Thrown for an attempt that failed in a way worth retrying; BullMQ schedules the next try. */
export class RetryableCallError extends Error {
  constructor(
    readonly error: CallError,
    /** From the endpoint's Retry-After, when it sent one. */
    readonly retryAfterMs?: number,
  ) {
    super(error.message);
    this.name = 'RetryableCallError';
  }
}
