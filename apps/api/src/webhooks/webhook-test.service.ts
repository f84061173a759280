import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { DEFAULT_SESSION_ID, ErrorCode, WebhookDefinition } from '@hookrunner/contracts';
import { UnbuildableRequestError, WebhookSender } from '@hookrunner/outbound';
import { validateReply } from '@hookrunner/webhook';
import { TestWebhookDto } from './dto/webhook.dto';
import { DomainError } from '../errors/domain-error';

export interface WebhookTestReport {
  request: { method: string; url: string; headers: Record<string, string>; body: string | null };
  response: {
    status: number;
    headers: Record<string, string | string[] | undefined>;
    body: string;
    durationMs: number;
  } | null;
  valid: boolean;
  errors?: string[];
}

/** The headers Hookrunner itself sets: safe to show. Every other header may carry a credential. */
const OWN_HEADERS = new Set([
  'user-agent',
  'idempotency-key',
  'content-type',
  'accept',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
]);

/** Runs one attempt of a definition for its author, reading state but never writing it. */
@Injectable()
export class WebhookTestService implements OnApplicationShutdown {
  constructor(private readonly sender: WebhookSender) {}

  async run(botId: string, definition: WebhookDefinition, input: TestWebhookDto): Promise<WebhookTestReport> {
    const request = { ...definition, params: { ...definition.params, ...input.params } };
    // Without a userId, merge tags see only what the author typed in.
    const user = input.userId
      ? { botId, userId: input.userId, sessionId: input.sessionId ?? DEFAULT_SESSION_ID }
      : undefined;
    const ctx = await this.sender.mergeContext(request, input, user);
    const outgoing = await this.sender.prepare(botId, `test-${Date.now()}`, request, ctx).catch((err: Error) => {
      throw err instanceof UnbuildableRequestError
        ? new DomainError(ErrorCode.InvalidInput, `the request could not be built: ${err.message}`)
        : err;
    });
    const report = await this.sender.send(outgoing, definition.timeoutMs);
    const shown = {
      method: outgoing.method,
      url: outgoing.url,
      headers: Object.fromEntries(
        Object.entries(outgoing.headers).map(([k, v]) => [k, OWN_HEADERS.has(k) ? v : '***']),
      ),
      body: outgoing.body ?? null,
    };
    const { exchange, outcome } = report;
    const response = exchange
      ? {
          status: exchange.status,
          headers: exchange.headers,
          body: exchange.body,
          durationMs: Math.round(exchange.durationMs),
        }
      : null;
    if (outcome.kind === 'success') return { request: shown, response, valid: true };
    const validation =
      exchange && exchange.status >= 200 && exchange.status < 300 ? validateReply(exchange.body) : undefined;
    const errors = validation && !validation.ok ? validation.errors : [outcome.error.message];
    return { request: shown, response, valid: false, errors };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.sender.close();
  }
}
