/**
 * The `error` code of an API error reply (besides the HTTP reason phrase that validation and
 * authentication errors carry instead). Part of the public contract: never change a value once shipped.
 */
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
  /** Redis is unreachable; nothing was changed (for a batch: the entries not yet enqueued). Retry them. */
  RedisUnavailable = 'redis_unavailable',
  /** A fault of Hookrunner's own: logged, answered 500 without details. */
  InternalError = 'internal_error',
}
