import type { CallEvent } from '@hookrunner/contracts';
import { HEARTBEAT_MS } from '../../apps/api/src/events/events-stream.controller';
import {
  HookrunnerStack,
  pollUntil,
  startEndpoint,
  startHookrunner,
  subscribeEvents,
  TestEndpoint,
  uniqueId,
} from '../support';

/*
 * GET /v1/bots/{botId}/events/stream: the bot's events as server-sent events, authorised like
 * every /v1 route, all streams of a process sharing its one Redis subscription, each stream's
 * listener gone with its client, a heartbeat on idle streams, and every stream ended at shutdown.
 */

const KEY_ALL = 'sse-key-all';
const KEY_OTHER = 'sse-key-other';

interface Frame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

interface Stream {
  status: number;
  headers: Headers;
  /** Everything received so far. */
  text(): string;
  frames(): Frame[];
  /** Resolves once the server has ended the stream. */
  ended: Promise<void>;
  close(): void;
}

/** Opens the stream and reads it in the background; frames() parses what has arrived so far. */
async function openStream(base: string, botId: string, key?: string): Promise<Stream> {
  const controller = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${base}/v1/bots/${encodeURIComponent(botId)}/events/stream`, {
    headers,
    signal: controller.signal,
  });
  let text = '';
  const read = async (): Promise<void> => {
    const decoder = new TextDecoder();
    for await (const chunk of res.body ?? []) text += decoder.decode(chunk as Uint8Array, { stream: true });
  };
  const ended = read().catch(() => undefined);
  return {
    status: res.status,
    headers: res.headers,
    text: () => text,
    frames: () => text.split('\n\n').slice(0, -1).map(parseFrame),
    ended,
    close: () => controller.abort(),
  };
}

function parseFrame(block: string): Frame {
  const frame: Frame = {};
  for (const line of block.split('\n')) {
    const [field, ...rest] = line.split(':');
    const value = rest.join(':').replace(/^ /, '');
    if (field === '') frame.comment = value;
    else if (field === 'id' || field === 'event' || field === 'data')
      frame[field] = frame[field] === undefined ? value : `${frame[field]}\n${value}`;
  }
  return frame;
}

describe('GET /v1/bots/{botId}/events/stream', () => {
  let stack: HookrunnerStack;
  let endpoint: TestEndpoint;
  let base: string;
  let stopped = false;
  const open: Stream[] = [];

  const send = (method: string, path: string, body?: unknown) =>
    fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${KEY_ALL}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const stream = async (botId: string, key?: string) => {
    const s = await openStream(base, botId, key);
    open.push(s);
    return s;
  };
  const enqueue = async (botId: string, userId: string): Promise<string> => {
    const res = await send('POST', `/v1/bots/${botId}/calls`, { webhook: 'hello', userId });
    expect(res.status).toBe(202);
    return ((await res.json()) as { callId: string }).callId;
  };
  const subscribers = async (botId: string) =>
    ((await stack.client.pubsub('NUMSUB', `hookrunner:events:${botId}`)) as [string, number])[1];
  const eventFrame = (s: Stream, callId: string) =>
    pollUntil(() => s.frames().find((f) => f.id === callId), {
      timeoutMs: 20_000,
      message: `no SSE event for ${callId}`,
    });

  beforeAll(async () => {
    endpoint = await startEndpoint();
    endpoint.reply('/hello', 200, { responses: ['Hello <b>there</b>'], memory: { greeted: true } });
    stack = await startHookrunner({ AUTH_DISABLED: 'false', API_KEYS: `${KEY_ALL},${KEY_OTHER}:someone-else` });
    base = stack.api.baseUrl;
  });

  afterAll(async () => {
    for (const s of open) s.close();
    if (!stopped) await stack?.stop();
    await endpoint?.close();
  });

  const withWebhook = async (): Promise<string> => {
    const botId = uniqueId('sse');
    const res = await send('POST', `/v1/bots/${botId}/webhooks`, {
      name: 'hello',
      method: 'POST',
      url: `${endpoint.url}/hello`,
    });
    expect(res.status).toBe(201);
    return botId;
  };

  it('answers 401 without a key or with an unknown one, and 403 for a key restricted to other bots', async () => {
    const botId = uniqueId('sse');
    for (const [key, status] of [
      [undefined, 401],
      ['not-a-key', 401],
      [KEY_OTHER, 403],
    ] as const) {
      const s = await stream(botId, key);
      expect(s.status).toBe(status);
      await s.ended;
      expect(s.headers.get('content-type')).toContain('application/json');
    }
    expect(await subscribers(botId)).toBe(0);
  });

  it('answers 400 naming the rule for a malformed botId', async () => {
    const s = await stream('no spaces allowed', KEY_ALL);
    expect(s.status).toBe(400);
    await s.ended;
    expect(JSON.parse(s.text())).toMatchObject({
      statusCode: 400,
      message: [expect.stringMatching(/^botId must be 1-128 characters/)],
    });
  });

  it('sends each event as published, with the callId as the SSE id and the type as the event name', async () => {
    const botId = await withWebhook();
    const events = await subscribeEvents(stack.redis.url, botId);
    try {
      const s = await stream(botId, KEY_ALL);
      expect(s.status).toBe(200);
      expect(s.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(s.headers.get('cache-control')).toBe('no-cache, no-transform');
      // The first comment comes once the subscription is live: nothing published after it is missed.
      await pollUntil(() => s.frames()[0], { message: 'no opening comment' });
      expect(s.frames()[0]).toEqual({ comment: `events of bot ${botId}` });

      const callIds = [await enqueue(botId, 'alice'), await enqueue(botId, 'bob')];
      const published = await events.waitForAll(callIds);
      for (const event of published) {
        const frame = await eventFrame(s, event.callId);
        expect(frame).toEqual({ id: event.callId, event: 'call.succeeded', data: expect.any(String) });
        expect(JSON.parse(frame.data!) as CallEvent).toEqual(event);
      }
      expect(published[0]).toMatchObject({ responses: ['Hello <b>there</b>'], changes: { memory: { greeted: true } } });
    } finally {
      await events.close();
    }
  });

  it('shares one Redis subscription among a bot’s streams, and drops it when the last client leaves', async () => {
    const botId = await withWebhook();
    const [first, second] = [await stream(botId, KEY_ALL), await stream(botId, KEY_ALL)];
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(await subscribers(botId)).toBe(1);

    const callId = await enqueue(botId, 'carol');
    await Promise.all([eventFrame(first, callId), eventFrame(second, callId)]);

    first.close();
    await first.ended;
    // The other stream keeps its listener and still gets events.
    const next = await enqueue(botId, 'dave');
    await eventFrame(second, next);
    expect(first.frames().some((f) => f.id === next)).toBe(false);
    expect(await subscribers(botId)).toBe(1);

    second.close();
    await pollUntil(async () => (await subscribers(botId)) === 0, {
      message: 'the API kept the subscription after both clients left',
    });

    // A new client subscribes afresh.
    const third = await stream(botId, KEY_ALL);
    const last = await enqueue(botId, 'erin');
    await eventFrame(third, last);
  });

  it(
    `sends a heartbeat comment on an idle stream (every ${HEARTBEAT_MS / 1000} s)`,
    async () => {
      const s = await stream(uniqueId('sse'), KEY_ALL);
      expect(s.status).toBe(200);
      await pollUntil(() => s.frames().find((f) => f.comment === 'heartbeat'), {
        timeoutMs: HEARTBEAT_MS + 15_000,
        intervalMs: 250,
        message: 'no heartbeat comment',
      });
    },
    HEARTBEAT_MS + 30_000,
  );

  it('ends every open stream when the API shuts down, and exits cleanly', async () => {
    const s = await stream(uniqueId('sse'), KEY_ALL);
    expect(s.status).toBe(200);
    stopped = true;
    await stack.stop();
    await s.ended;
    expect(stack.app.exitedWith).toEqual({ code: 0, signal: null });
  });
});
