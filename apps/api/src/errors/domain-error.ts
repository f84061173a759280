/** What went wrong, independent of HTTP. Mapped to a status in one place: DomainErrorFilter. */
export enum ErrorCode {
  WebhookNotFound = 'webhook_not_found',
  WebhookExists = 'webhook_exists',
  TooManyWebhooks = 'too_many_webhooks',
  CallNotFound = 'call_not_found',
  InvalidInput = 'invalid_input',
  QueueFull = 'queue_full',
  RateLimited = 'rate_limited',
  BlockedUrl = 'blocked_url',
  NotRetryable = 'not_retryable',
  CallExpired = 'call_expired',
  /** Redis failed part-way through a batch: the entries not yet enqueued answer this; retry them. */
  RedisUnavailable = 'redis_unavailable',
}

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
