import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import {
  CALLS_QUEUE,
  type CallEvent,
  eventSubject,
  type HookrunnerEvent,
  partitionPrefix,
  type TurnCompletedEvent,
} from '@hookrunner/contracts';
import { freePort } from './free-port';
import { pollUntil } from './poll';
import { AppProcess, startApp } from './processes';
import { startRedis, TestRedis } from './redis-server';

/** One reply of the Hookrunner API, body parsed as JSON when there is one. */
export interface ApiReply<T = any> {
  status: number;
  headers: Headers;
  body: T;
  /** The body as received. */
  text: string;
}

export interface ApiRequestOptions {
  /** Sent as is instead of JSON.stringify(body): malformed JSON, an empty body. */
  raw?: string;
  /** Default application/json whenever there is a body. */
  contentType?: string;
}

/** A small JSON client for the Hookrunner API at `baseUrl` (http://127.0.0.1:<port>, no trailing slash). */
export interface ApiClient {
  readonly baseUrl: string;
  request<T = any>(method: string, path: string, body?: unknown, opts?: ApiRequestOptions): Promise<ApiReply<T>>;
  get<T = any>(path: string): Promise<ApiReply<T>>;
  post<T = any>(path: string, body?: unknown, opts?: ApiRequestOptions): Promise<ApiReply<T>>;
  put<T = any>(path: string, body?: unknown, opts?: ApiRequestOptions): Promise<ApiReply<T>>;
  delete<T = any>(path: string): Promise<ApiReply<T>>;
}

export function api(baseUrl: string): ApiClient {
  const request = async <T>(
    method: string,
    path: string,
    body?: unknown,
    opts: ApiRequestOptions = {},
  ): Promise<ApiReply<T>> => {
    const payload = opts.raw ?? (body === undefined ? undefined : JSON.stringify(body));
    const headers: Record<string, string> = {};
    if (payload !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: payload,
      signal: AbortSignal.timeout(30_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  };
  return {
    baseUrl,
    request,
    get: (path) => request('GET', path),
    post: (path, body, opts) => request('POST', path, body, opts),
    put: (path, body, opts) => request('PUT', path, body, opts),
    delete: (path) => request('DELETE', path),
  };
}

/** Events of one bot, as a bot engine subscribed to `hookrunner:events:<botId>` receives them. */
export interface EventCollector {
  /** Every call event received so far, oldest first. */
  readonly events: CallEvent[];
  /** Every turn event received so far, oldest first. */
  readonly turns: TurnCompletedEvent[];
  /** The first event of `turnId`, once it has arrived. */
  waitForTurn(turnId: string, timeoutMs?: number): Promise<TurnCompletedEvent>;
  /** Events of one call. */
  forCall(callId: string): CallEvent[];
  /** The first event of `callId`, once it has arrived. */
  waitFor(callId: string, timeoutMs?: number): Promise<CallEvent>;
  /** The first event of each call, in the order of `callIds`. */
  waitForAll(callIds: string[], timeoutMs?: number): Promise<CallEvent[]>;
  close(): Promise<void>;
}

/** Subscribes to a bot's channel and resolves once the subscription is active. */
export async function subscribeEvents(redisUrl: string, botId: string): Promise<EventCollector> {
  // ioredis's own re-subscribe after a reconnect is a promise nobody holds: when Redis goes again
  // before it is answered, its rejection would fail the suite. This one handles its own.
  const subscriber = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, autoResubscribe: false });
  subscriber.on('error', () => undefined); // a test that stops Redis must not crash on the reconnect noise
  const events: CallEvent[] = [];
  const turns: TurnCompletedEvent[] = [];
  const channel = `hookrunner:events:${botId}`;
  subscriber.on('message', (_channel: string, message: string) => {
    const event = JSON.parse(message) as HookrunnerEvent;
    if (event.type === 'turn.completed') turns.push(event);
    else events.push(event);
  });
  await subscriber.connect();
  await subscriber.subscribe(channel);
  subscriber.on('ready', () => void subscriber.subscribe(channel).catch(() => undefined));

  const forCall = (callId: string) => events.filter((e) => e.callId === callId);
  return {
    events,
    turns,
    waitForTurn: (turnId, timeoutMs = 15_000) =>
      pollUntil(() => turns.find((e) => e.turnId === turnId), {
        timeoutMs,
        message: `no turn.completed for turn ${turnId} on hookrunner:events:${botId}`,
      }),
    forCall,
    waitFor: (callId, timeoutMs = 15_000) =>
      pollUntil(() => forCall(callId)[0], {
        timeoutMs,
        message: `no event for call ${callId} on hookrunner:events:${botId}`,
      }),
    waitForAll: (callIds, timeoutMs = 30_000) =>
      pollUntil(
        () => {
          const found = callIds.map((id) => forCall(id)[0]);
          return found.every(Boolean) ? found : undefined;
        },
        {
          timeoutMs,
          message: () =>
            `not every call of bot ${botId} got an event ` +
            `(${callIds.filter((id) => forCall(id).length === 0).length} missing)`,
        },
      ),
    close: () => {
      subscriber.disconnect();
      return Promise.resolve();
    },
  };
}

/** One entry of the `hookrunner:events` stream. */
export interface StreamEntry {
  id: string;
  fields: Record<string, string>;
  event: HookrunnerEvent;
}

/** Every entry of the `hookrunner:events` stream whose event is for `callId` (or a turn, `turnId`). */
export async function streamEntriesFor(redis: Redis, callId: string): Promise<StreamEntry[]> {
  const entries = await redis.xrange('hookrunner:events', '-', '+');
  return entries
    .map(([id, flat]) => {
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
      return { id, fields, event: JSON.parse(fields.event ?? 'null') as HookrunnerEvent };
    })
    .filter((entry) => entry.event && eventSubject(entry.event) === callId);
}

const QUEUE_LISTS = ['wait', 'active', 'paused'];
const QUEUE_SETS = ['delayed', 'prioritized', 'waiting-children'];

/** Key prefixes of a queue's partitions in Redis: `{hookrunner}:<queue>`, `{hookrunner:1}:<queue>`... */
export async function queuePrefixes(redis: Redis, queue: 'calls' | 'results'): Promise<string[]> {
  const metas = await redis.keys(`{hookrunner*}:${queue}:meta`);
  return [...new Set([`{hookrunner}:${queue}`, ...metas.map((key) => key.slice(0, -':meta'.length))])];
}

/**
 * Calls (jobs of the calls queue) or results (entries of the results streams), over every
 * partition, that are not finished yet: a result leaves its stream once applied.
 */
export async function pendingJobs(redis: Redis, queue: 'calls' | 'results'): Promise<number> {
  const pipeline = redis.pipeline();
  if (queue === 'results') {
    for (const key of await redis.keys('{hookrunner*}:results:stream')) pipeline.xlen(key);
  }
  for (const prefix of queue === 'calls' ? await queuePrefixes(redis, queue) : []) {
    for (const list of QUEUE_LISTS) pipeline.llen(`${prefix}:${list}`);
    for (const set of QUEUE_SETS) pipeline.zcard(`${prefix}:${set}`);
  }
  const replies = (await pipeline.exec()) ?? [];
  return replies.reduce((sum, [err, n]) => {
    if (err) throw err;
    return sum + Number(n);
  }, 0);
}

/** Ids of the calls waiting to run (ready, not delayed), over every partition. */
export async function waitingCallIds(redis: Redis): Promise<string[]> {
  const ids: string[] = [];
  for (const prefix of await queuePrefixes(redis, 'calls')) {
    ids.push(...(await redis.lrange(`${prefix}:wait`, 0, -1)), ...(await redis.zrange(`${prefix}:prioritized`, 0, -1)));
  }
  return ids;
}

/** The hash key BullMQ keeps for a call's job in partition `partition` of the calls queue, whether it exists or not. */
export function callJobKeyIn(partition: number, callId: string): string {
  return `${partitionPrefix(partition)}:${CALLS_QUEUE}:${callId}`;
}

/** The hash key of a call's job, in whichever partition holds it (undefined when none does). */
export async function callJobKey(redis: Redis, callId: string): Promise<string | undefined> {
  for (const prefix of await queuePrefixes(redis, 'calls'))
    if (await redis.exists(`${prefix}:${callId}`)) return `${prefix}:${callId}`;
  return undefined;
}

/** Waits until neither the calls queue nor the results queue holds an unfinished job. */
export async function waitForIdleQueues(redis: Redis, timeoutMs = 20_000): Promise<void> {
  await pollUntil(async () => (await pendingJobs(redis, 'calls')) + (await pendingJobs(redis, 'results')) === 0, {
    timeoutMs,
    message: 'the calls and results queues did not drain',
  });
}

/** A fresh identifier per test, so tests sharing one Redis and one app never see each other's data. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Every role in one process on its own redis-server: what `npm start` runs. */
export interface HookrunnerStack {
  readonly redis: TestRedis;
  readonly app: AppProcess;
  readonly api: ApiClient;
  /** A connection for reading the stream and queue keys; closed by stop(). */
  readonly client: Redis;
  stop(): Promise<void>;
}

export async function startHookrunner(env: Record<string, string> = {}): Promise<HookrunnerStack> {
  const redis = await startRedis();
  try {
    const port = await freePort();
    const app = await startApp('hookrunner', { REDIS_URL: redis.url, PORT: String(port), LOG_LEVEL: 'warn', ...env });
    let stopping = false;
    // An app that dies mid-file fails every later test with ECONNREFUSED: say why, once.
    void app.exited.then(({ code, signal }) => {
      if (!stopping)
        process.stderr.write(
          `hookrunner (pid ${app.pid}) exited unexpectedly with ${signal ?? `code ${code}`}:\n${app.tail()}\n`,
        );
    });
    return {
      redis,
      app,
      api: api(`http://127.0.0.1:${port}`),
      client: redis.client(),
      stop: async () => {
        stopping = true;
        await app.stop();
        await redis.stop();
      },
    };
  } catch (error) {
    await redis.stop();
    throw error;
  }
}

/** POST /v1/bots/{botId}/webhooks, expecting 201. */
export async function createWebhook(
  client: ApiClient,
  botId: string,
  definition: Record<string, unknown>,
): Promise<any> {
  const reply = await client.post(`/v1/bots/${botId}/webhooks`, definition);
  if (reply.status !== 201)
    throw new Error(`creating webhook ${JSON.stringify(definition.name)} answered ${reply.status}: ${reply.text}`);
  return reply.body;
}

/** POST /v1/bots/{botId}/calls, expecting 202; returns the callId. */
export async function enqueueCall(client: ApiClient, botId: string, call: Record<string, unknown>): Promise<string> {
  const reply = await client.post(`/v1/bots/${botId}/calls`, call);
  if (reply.status !== 202)
    throw new Error(`enqueueing ${JSON.stringify(call)} answered ${reply.status}: ${reply.text}`);
  return reply.body.callId as string;
}
