import { ErrorCode } from '@hookrunner/contracts';

/** What went wrong, independent of HTTP. Mapped to a status in one place: DomainErrorFilter. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Sent as Retry-After (seconds) with the error. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
