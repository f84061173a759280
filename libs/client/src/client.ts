import { randomUUID } from 'node:crypto';
import createClient, { type Client } from 'openapi-fetch';
import type Redis from 'ioredis';
import { HookrunnerApiError } from './errors';
import type { paths } from './generated/openapi';
import { mayRetry, RetryOptions, retryDelayMs } from './retry';
import { subscribeEvents, Subscription, SubscribeOptions } from './subscribe';
import type {
  BatchResult,
  CallAccepted,
  CallFinished,
  CallRetried,
  CallView,
  CreateWebhook,
  EnqueueCall,
  EnqueueTurn,
  ErrorBody,
  FailedPage,
  HookrunnerEvent,
  ReplaceWebhook,
  TestWebhook,
  TurnAccepted,
  TurnFinished,
  WebhookDefinition,
  WebhookTestReport,
} from './types';

export interface HookrunnerClientOptions {
  /** The API's address, e.g. `http://127.0.0.1:3000`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Retries of 5xx replies and network errors; see RetryOptions. */
  retry?: RetryOptions;
  /** Replaces the global fetch (a proxy, a test double). */
  fetch?: (request: Request) => Promise<Response>;
  /**
   * Redis, for subscribe(): a URL, or an ioredis client (used for reading the stream, and
   * duplicated for the subscription; never closed by this client).
   */
  redis?: Redis | string;
}

/** A waited enqueue's answer: the call ended in time (`succeeded`/`failed`, with its event) or is `queued`. */
export type EnqueueResult = CallAccepted | (Omit<CallFinished, 'event'> & { event: HookrunnerEvent });

type Reply<T> = { data?: T; error?: unknown; response: Response };

/**
 * The Hookrunner API for a bot engine, typed from its OpenAPI document. Every enqueue carries an
 * idempotency key (one is made up when the caller gives none), so a retried enqueue never runs twice.
 */
export class HookrunnerClient {
  private readonly http: Client<paths>;

  constructor(private readonly options: HookrunnerClientOptions) {
    this.http = createClient<paths>({
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : undefined,
      fetch: options.fetch,
    });
  }

  /** Enqueues a call: `queued`, or with `waitMs`, its end if it comes in time. */
  enqueue(botId: string, call: EnqueueCall & { waitMs?: number }): Promise<EnqueueResult> {
    const body = { ...call, idempotencyKey: call.idempotencyKey ?? randomUUID() };
    return this.send(true, () =>
      this.http.POST('/v1/bots/{botId}/calls', { params: { path: { botId } }, body }),
    ) as Promise<EnqueueResult>;
  }

  /** Enqueues a call and waits up to `waitMs` (at most 30000) for it to end. */
  wait(botId: string, call: EnqueueCall, waitMs: number): Promise<EnqueueResult> {
    return this.enqueue(botId, { ...call, waitMs });
  }

  /**
   * Runs up to 10 calls in parallel as one turn: `queued` with the turn's and calls' ids, or with
   * `waitMs`, `completed` with the `turn.completed` event if every call ends in time.
   */
  turn(botId: string, turn: EnqueueTurn): Promise<TurnAccepted | TurnFinished> {
    const body = { ...turn, idempotencyKey: turn.idempotencyKey ?? randomUUID() };
    return this.send(true, () => this.http.POST('/v1/bots/{botId}/turns', { params: { path: { botId } }, body }));
  }

  /** Up to 1000 calls; each entry answers for itself, in order. */
  enqueueBatch(botId: string, calls: EnqueueCall[]): Promise<BatchResult> {
    const body = { calls: calls.map((call) => ({ ...call, idempotencyKey: call.idempotencyKey ?? randomUUID() })) };
    return this.send(true, () => this.http.POST('/v1/bots/{botId}/calls/batch', { params: { path: { botId } }, body }));
  }

  getCall(callId: string): Promise<CallView> {
    return this.send(true, () => this.http.GET('/v1/calls/{callId}', { params: { path: { callId } } }));
  }

  /** The bot's dead letters, newest first; pass `nextCursor` back for the next page. */
  listFailedCalls(botId: string, page: { limit?: number; cursor?: string } = {}): Promise<FailedPage> {
    return this.send(true, () =>
      this.http.GET('/v1/bots/{botId}/calls', { params: { path: { botId }, query: { status: 'failed', ...page } } }),
    );
  }

  /** Replays a failed call with a fresh attempt budget. Not retried: a second replay would be refused. */
  retryCall(callId: string): Promise<CallRetried> {
    return this.send(false, () => this.http.POST('/v1/calls/{callId}/retry', { params: { path: { callId } } }));
  }

  createWebhook(botId: string, definition: CreateWebhook): Promise<WebhookDefinition> {
    return this.send(false, () =>
      this.http.POST('/v1/bots/{botId}/webhooks', { params: { path: { botId } }, body: definition }),
    );
  }

  async listWebhooks(botId: string): Promise<WebhookDefinition[]> {
    const list = await this.send(true, () =>
      this.http.GET('/v1/bots/{botId}/webhooks', { params: { path: { botId } } }),
    );
    return list.webhooks;
  }

  getWebhook(botId: string, name: string): Promise<WebhookDefinition> {
    return this.send(true, () =>
      this.http.GET('/v1/bots/{botId}/webhooks/{name}', { params: { path: { botId, name } } }),
    );
  }

  replaceWebhook(botId: string, name: string, definition: ReplaceWebhook): Promise<WebhookDefinition> {
    return this.send(true, () =>
      this.http.PUT('/v1/bots/{botId}/webhooks/{name}', { params: { path: { botId, name } }, body: definition }),
    );
  }

  async deleteWebhook(botId: string, name: string): Promise<void> {
    await this.send(true, () =>
      this.http.DELETE('/v1/bots/{botId}/webhooks/{name}', { params: { path: { botId, name } } }),
    );
  }

  /** The author's "test" button: runs the webhook once, now, without retry or state change. */
  testWebhook(botId: string, name: string, input: TestWebhook = {}): Promise<WebhookTestReport> {
    return this.send(false, () =>
      this.http.POST('/v1/bots/{botId}/webhooks/{name}/test', { params: { path: { botId, name } }, body: input }),
    );
  }

  /**
   * Follows a bot's events: live from its channel, caught up from the `hookrunner:events` stream
   * at start (from `fromId` when given) and after every reconnect. Each event is delivered at
   * least once; deduplicate by `callId` or `turnId` (see eventKey). Needs the `redis` option.
   */
  subscribe(
    botId: string,
    onEvent: (event: HookrunnerEvent, id?: string) => void | Promise<void>,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    if (!this.options.redis)
      return Promise.reject(new Error('subscribe needs the redis option: a Redis URL or an ioredis client'));
    return subscribeEvents(this.options.redis, botId, onEvent, options);
  }

  private async send<T>(idempotent: boolean, request: () => Promise<Reply<T>>): Promise<NonNullable<T>> {
    const retry = this.options.retry ?? {};
    const attempts = Math.max(1, retry.attempts ?? 4);
    for (let attempt = 1; ; attempt++) {
      let reply: Reply<T>;
      try {
        reply = await request();
      } catch (err) {
        if (attempt >= attempts || !mayRetry({}, idempotent)) throw err;
        await sleep(retryDelayMs(attempt, retry));
        continue;
      }
      const { response } = reply;
      if (response.ok) return reply.data as NonNullable<T>;
      const header = response.headers.get('retry-after');
      const retryAfter = header !== null && /^\d+$/.test(header) ? Number(header) : undefined;
      if (attempt < attempts && mayRetry({ status: response.status }, idempotent)) {
        await sleep(retryDelayMs(attempt, retry, retryAfter));
        continue;
      }
      const body = (reply.error ?? { statusCode: response.status, message: response.statusText }) as ErrorBody;
      throw new HookrunnerApiError(response.status, body, retryAfter);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
