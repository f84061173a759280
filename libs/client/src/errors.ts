import type { ErrorBody } from './types';

/** A request the API refused or could not serve: its status and its error body. */
export class HookrunnerApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
    /** From Retry-After, when sent (429, 503). */
    readonly retryAfterSeconds?: number,
  ) {
    super(`${status} ${body.error ?? ''}: ${Array.isArray(body.message) ? body.message.join('; ') : body.message}`);
    this.name = 'HookrunnerApiError';
  }
}
