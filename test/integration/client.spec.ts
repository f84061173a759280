import { createServer, Server, Socket } from 'node:net';
import { HookrunnerApiError, HookrunnerClient, HookrunnerEvent, Subscription } from '@hookrunner/client';
import {
  freePort,
  HookrunnerStack,
  pollUntil,
  startEndpoint,
  startHookrunner,
  TestEndpoint,
  uniqueId,
} from '../support';

/*
 * @hookrunner/client against the real app: the HTTP calls typed from openapi.json, retries that
 * never run a call twice, and a subscriber that loses no event across a dropped connection or a
 * restart from a saved position.
 */
describe('@hookrunner/client', () => {
  let stack: HookrunnerStack;
  let endpoint: TestEndpoint;
  let client: HookrunnerClient;
  let botId: string;
  const subscriptions: Subscription[] = [];

  beforeAll(async () => {
    [stack, endpoint] = await Promise.all([
      startHookrunner({ AUTH_DISABLED: 'false', API_KEYS: 'k-client' }),
      startEndpoint(),
    ]);
  });

  beforeEach(() => {
    botId = uniqueId('bot');
    client = new HookrunnerClient({
      baseUrl: stack.api.baseUrl,
      apiKey: 'k-client',
      redis: stack.redis.url,
      retry: { baseDelayMs: 20 },
    });
  });

  afterEach(async () => {
    await Promise.all(subscriptions.splice(0).map((s) => s.close()));
  });

  afterAll(async () => {
    await Promise.all([stack?.stop(), endpoint?.close()]);
  });

  const hook = (name: string, status = 200, body: unknown = { responses: [name] }) => {
    endpoint.reply(`/${botId}/${name}`, status, body);
    return client.createWebhook(botId, {
      name,
      method: 'POST',
      url: `${endpoint.url}/${botId}/${name}`,
      retry: { attempts: 1 },
    });
  };

  const idOf = (e: HookrunnerEvent) => (e.type === 'turn.completed' ? e.turnId : e.callId);

  /** Collects a bot's events through the client. */
  const follow = async (fromId?: string, redis: string = stack.redis.url) => {
    const received: HookrunnerEvent[] = [];
    const sub = await new HookrunnerClient({ baseUrl: stack.api.baseUrl, redis }).subscribe(
      botId,
      (e) => void received.push(e),
      {
        fromId,
      },
    );
    subscriptions.push(sub);
    return { received, sub };
  };

  it('manages webhooks, runs the test button, enqueues, waits, batches and reads calls', async () => {
    const created = await hook('greet', 200, { responses: ['hello {{memory.name}}'], memory: { name: 'Ada' } });
    expect(created).toMatchObject({ name: 'greet', method: 'POST', retry: { attempts: 1 } });
    expect((await client.listWebhooks(botId)).map((w) => w.name)).toEqual(['greet']);
    expect(
      await client.replaceWebhook(botId, 'greet', { method: 'POST', url: created.url, timeoutMs: 2_000 }),
    ).toMatchObject({ timeoutMs: 2_000 });
    expect(await client.getWebhook(botId, 'greet')).toMatchObject({ timeoutMs: 2_000 });
    expect(await client.testWebhook(botId, 'greet', { userId: 'u1' })).toMatchObject({
      valid: true,
      response: { status: 200 },
    });

    const waited = await client.wait(botId, { webhook: 'greet', userId: 'u1' }, 10_000);
    expect(waited.status).toBe('succeeded');
    if (waited.status === 'queued') throw new Error('the call did not end in time');
    expect(waited.event).toMatchObject({ type: 'call.succeeded', callId: waited.callId, responses: ['hello Ada'] });
    expect(await client.getCall(waited.callId)).toMatchObject({
      status: 'succeeded',
      attemptLog: [{ httpStatus: 200 }],
    });

    const batch = await client.enqueueBatch(botId, [
      { webhook: 'greet', userId: 'u2' },
      { webhook: 'missing', userId: 'u2' },
    ]);
    expect(batch.calls).toEqual([
      { callId: expect.any(String) },
      { error: { status: 404, message: expect.stringContaining('missing') } },
    ]);

    await client.deleteWebhook(botId, 'greet');
    const refused = await client.getWebhook(botId, 'greet').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(HookrunnerApiError);
    expect(refused).toMatchObject({ status: 404, body: { error: 'webhook_not_found' } });
  });

  it('runs a turn, waits for it, and follows its turn.completed beside its calls’ events', async () => {
    await hook('ask', 200, { responses: ['asked'], memory: { step: 'ask' } });
    await hook('tell', 200, { responses: ['told {{memory.step}}'], memory: { step: 'tell' } });
    const { received } = await follow();

    const turn = await client.turn(botId, {
      userId: 'u1',
      calls: [{ webhook: 'ask' }, { webhook: 'tell' }],
      waitMs: 10_000,
    });
    if (turn.status !== 'completed') throw new Error('the turn did not complete in time');
    expect(turn.event).toMatchObject({ type: 'turn.completed', responses: ['asked', 'told tell'] });

    await pollUntil(() => received.find((e) => e.type === 'turn.completed'), {
      timeoutMs: 10_000,
      message: 'no turn.completed',
    });
    const [completed] = received.filter((e) => e.type === 'turn.completed');
    if (completed.type !== 'turn.completed') throw new Error('not a turn event');
    expect(completed).toEqual(turn.event);
    expect(received.map(idOf).sort()).toEqual([...completed.calls.map((c) => c.callId), turn.turnId].sort());
  });

  it('lists dead letters and replays one', async () => {
    await hook('broken', 400, { nope: true });
    const failed = await client.wait(botId, { webhook: 'broken', userId: 'u1' }, 10_000);
    expect(failed).toMatchObject({ status: 'failed', event: { type: 'call.failed', error: { type: 'http_status' } } });
    const page = await client.listFailedCalls(botId, { limit: 10 });
    expect(page.calls.map((c) => c.callId)).toEqual([failed.callId]);
    expect(await client.retryCall(failed.callId)).toEqual({ callId: failed.callId, status: 'queued', run: 1 });
  });

  it('retries an enqueue whose reply was lost with the same idempotency key: the call runs once', async () => {
    await hook('once');
    let dropped = 0;
    const flaky = new HookrunnerClient({
      baseUrl: stack.api.baseUrl,
      apiKey: 'k-client',
      retry: { baseDelayMs: 20 },
      // The request reaches the API; its reply is lost on the way back, twice.
      fetch: async (request) => {
        const response = await fetch(request);
        if (dropped < 2) {
          dropped++;
          throw new TypeError('fetch failed: socket hang up');
        }
        return response;
      },
    });
    const { received } = await follow();
    const accepted = await flaky.enqueue(botId, { webhook: 'once', userId: 'u1' });
    expect(accepted.status).toBe('queued');
    await pollUntil(() => received.find((e) => idOf(e) === accepted.callId), {
      timeoutMs: 15_000,
      message: 'no event',
    });
    expect(dropped).toBe(2);
    expect(endpoint.requestsTo(`/${botId}/once`)).toHaveLength(1);
    expect(received.filter((e) => idOf(e) === accepted.callId)).toHaveLength(1);
  });

  it('catches up from the stream after its connection drops, losing no event', async () => {
    await hook('tick');
    const proxy = await startProxy(new URL(stack.redis.url).port);
    try {
      const { received, sub } = await follow(undefined, `redis://127.0.0.1:${proxy.port}`);
      const before = await client.enqueue(botId, { webhook: 'tick', userId: 'u1', waitMs: 10_000 });
      await pollUntil(() => received.length === 1, { timeoutMs: 10_000, message: 'the first event did not arrive' });

      proxy.cut(); // both of the subscriber's connections drop, and stay down while events are published
      const during: string[] = [];
      for (let i = 0; i < 20; i++)
        during.push((await client.enqueue(botId, { webhook: 'tick', userId: `u${i}`, waitMs: 10_000 })).callId);
      expect(received).toHaveLength(1);

      proxy.restore();
      await sub.caughtUp();
      const after = await client.enqueue(botId, { webhook: 'tick', userId: 'u-after' });
      const expected = [before.callId, ...during, after.callId];
      await pollUntil(() => expected.every((id) => received.some((e) => idOf(e) === id)), {
        timeoutMs: 20_000,
        message: 'events were lost across the disconnect',
      });
      expect(received.map(idOf)).toEqual(expected);
      expect(received.every((e) => e.type === 'call.succeeded')).toBe(true);
      await sub.close();
    } finally {
      await proxy.close();
    }
  });

  it('resumes from a saved position with exactly the events published while it was gone', async () => {
    await hook('tock');
    const first = await follow();
    const seen = (await client.wait(botId, { webhook: 'tock', userId: 'u1' }, 10_000)).callId;
    await pollUntil(() => first.received.length === 1, { timeoutMs: 10_000, message: 'no first event' });
    await first.sub.close();
    const saved = first.sub.position;

    const missed: string[] = [];
    for (let i = 0; i < 5; i++)
      missed.push((await client.wait(botId, { webhook: 'tock', userId: `m${i}` }, 10_000)).callId);

    const resumed = await follow(saved);
    await pollUntil(() => resumed.received.length >= 5, {
      timeoutMs: 10_000,
      message: 'the missed events did not arrive',
    });
    expect(resumed.received.map(idOf)).toEqual(missed);
    expect(resumed.received.map(idOf)).not.toContain(seen);
  });
});

/** A TCP proxy to Redis whose connections the test can cut, refusing new ones until restored. */
async function startProxy(
  targetPort: string,
): Promise<{ port: number; cut(): void; restore(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let down = false;
  const server: Server = createServer((inbound) => {
    if (down) return inbound.destroy();
    const outbound = new Socket();
    outbound.connect(Number(targetPort), '127.0.0.1');
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    inbound.pipe(outbound).pipe(inbound);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    cut: () => {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore: () => {
      down = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
