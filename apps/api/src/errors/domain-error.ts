/** What went wrong, independent of HTTP. Mapped to a status in one place: DomainErrorFilter. */
export enum ErrorCode {
  WebhookNotFound = 'webhook_not_found',
  WebhookExists = 'webhook_exists',
  TooManyWebhooks = 'too_many_webhooks',
  CallNotFound = 'call_not_found',
  InvalidInput = 'invalid_input',
}

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
