import { randomUUID } from 'node:crypto';
import { type CallEvent, DEFAULT_SESSION_ID, eventsChannel } from '@hookrunner/contracts';
import { keys } from '@hookrunner/redis';
import {
  createWebhook,
  EventCollector,
  HookrunnerStack,
  pollUntil,
  startEndpoint,
  startHookrunner,
  subscribeEvents,
  TestEndpoint,
  uniqueId,
} from '../support';

/*
 * `waitMs` on POST /v1/bots/{botId}/calls: a call that ends in time is answered 200 with exactly
 * the event the bot's channel carries; one still running is answered 202 once waitMs has passed,
 * and its event still comes; a replayed idempotency key of a finished call answers its event at once.
 */
describe('waiting for a call’s result', () => {
  let stack: HookrunnerStack;
  let endpoint: TestEndpoint;
  let events: EventCollector | undefined;
  let botId: string;
  let userId: string;

  beforeAll(async () => {
    [stack, endpoint] = await Promise.all([startHookrunner(), startEndpoint()]);
  });

  beforeEach(async () => {
    botId = uniqueId('bot');
    userId = uniqueId('user');
    events = await subscribeEvents(stack.redis.url, botId);
  });

  afterEach(async () => {
    await events?.close();
    events = undefined;
  });

  afterAll(async () => {
    await Promise.all([stack?.stop(), endpoint?.close()]);
  });

  const hook = async (name: string, status: number, body: unknown, delayMs?: number) => {
    endpoint.reply(`/${botId}/${name}`, status, body, { delayMs });
    await createWebhook(stack.api, botId, {
      name,
      method: 'POST',
      url: `${endpoint.url}/${botId}/${name}`,
      retry: { attempts: 1 },
    });
  };
  const call = (body: Record<string, unknown>) => stack.api.post(`/v1/bots/${botId}/calls`, { userId, ...body });

  it('answers 200 with exactly the published event when the call ends in time', async () => {
    await hook('quick', 200, { responses: ['hi {{memory.name}}'], memory: { name: 'Ada' } });
    const reply = await call({ webhook: 'quick', waitMs: 10_000 });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toContain('application/json');
    const published = await events!.waitFor(reply.body.callId);
    expect(reply.body).toEqual({ callId: published.callId, status: 'succeeded', event: published });
    expect(published).toMatchObject({ type: 'call.succeeded', responses: ['hi Ada'], memory: { name: 'Ada' } });
    expect(events!.forCall(published.callId)).toHaveLength(1);
  });

  it('answers 202 after about waitMs while the call still runs, and the event still comes', async () => {
    await hook('slow', 200, { responses: ['late'] }, 2_000);
    const started = Date.now();
    const reply = await call({ webhook: 'slow', waitMs: 300 });
    const elapsed = Date.now() - started;
    expect(reply.status).toBe(202);
    expect(reply.body).toEqual({ callId: expect.any(String), status: 'queued' });
    expect(elapsed).toBeGreaterThanOrEqual(295);
    const published = await events!.waitFor(reply.body.callId);
    expect(published).toMatchObject({ type: 'call.succeeded', responses: ['late'] });
  });

  it('answers 200 with status failed when the webhook fails', async () => {
    await hook('broken', 400, { message: 'no' });
    const reply = await call({ webhook: 'broken', waitMs: 10_000 });
    expect(reply.status).toBe(200);
    const published = await events!.waitFor(reply.body.callId);
    expect(reply.body).toEqual({ callId: published.callId, status: 'failed', event: published });
    expect(published).toMatchObject({
      type: 'call.failed',
      responses: [],
      error: { type: 'http_status', httpStatus: 400 },
    });
  });

  it('answers a replayed key of a finished call with its event at once, running nothing again', async () => {
    await hook('once', 200, { responses: ['once'] });
    const first = await call({ webhook: 'once', idempotencyKey: 'msg-1' });
    expect(first.status).toBe(202);
    const published = await events!.waitFor(first.body.callId);
    const replay = await call({ webhook: 'once', idempotencyKey: 'msg-1', waitMs: 30_000 });
    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toEqual({ callId: first.body.callId, status: 'succeeded', event: published });
    expect(endpoint.requestsTo(`/${botId}/once`)).toHaveLength(1);
  });

  it('waits for a replayed key whose call is still running', async () => {
    await hook('pending', 200, { responses: ['done'] }, 500);
    const first = await call({ webhook: 'pending', idempotencyKey: 'msg-2' });
    const replay = await call({ webhook: 'pending', idempotencyKey: 'msg-2', waitMs: 10_000 });
    expect(replay.status).toBe(200);
    const published = await events!.waitFor(first.body.callId);
    expect(replay.body).toEqual({ callId: first.body.callId, status: 'succeeded', event: published });
    expect(events!.forCall(first.body.callId)).toHaveLength(1);
  });

  it('answers both of two waited requests with the same idempotency key, running the call once', async () => {
    await hook('shared', 200, { responses: ['both'] }, 300);
    const body = { webhook: 'shared', idempotencyKey: 'msg-3', waitMs: 10_000 };
    const replies = await Promise.all([call(body), call(body)]);
    const published = await events!.waitFor(replies[0].body.callId);
    const answer = { callId: published.callId, status: 'succeeded', event: published };
    expect(replies.map((r) => [r.status, r.body])).toEqual([
      [200, answer],
      [200, answer],
    ]);
    expect(replies.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(1);
    expect(endpoint.requestsTo(`/${botId}/shared`)).toHaveLength(1);
  });

  it('answers with the event published while its enqueue was still in flight', async () => {
    await hook('held', 200, { responses: ['ran'] });
    // A claim on the key holds the request's enqueue in flight, as a request still enqueueing the
    // same key would: the API waits for that call's record for up to 3 s, then enqueues the call
    // itself. An event for the call in that time must not be missed.
    const callId = randomUUID();
    const redis = stack.redis.client();
    await redis.set(keys.idempotency(botId, 'msg-4'), callId, 'EX', 86_400);
    const waiting = call({ webhook: 'held', idempotencyKey: 'msg-4', waitMs: 10_000 });
    await pollUntil(async () => ((await redis.pubsub('NUMSUB', eventsChannel(botId))) as [string, number])[1] === 2, {
      timeoutMs: 5_000,
      message: 'the API did not subscribe to the bot’s channel beside this test',
    });
    const early: CallEvent = {
      type: 'call.succeeded',
      callId,
      botId,
      userId,
      sessionId: DEFAULT_SESSION_ID,
      webhook: 'held',
      responses: ['early'],
      quickreplies: [],
      memory: {},
      userAttributes: {},
      changes: { memory: {}, userAttributes: {} },
      attempts: 1,
      durationMs: 1,
      finishedAt: new Date().toISOString(),
    };
    await redis.publish(eventsChannel(botId), JSON.stringify(early));
    const reply = await waiting;
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ callId, status: 'succeeded', event: early });
    // The call the request then enqueued runs too; its own event ends the test.
    await pollUntil(() => events!.forCall(callId).length === 2, { timeoutMs: 10_000, message: 'the call never ran' });
  });

  it.each([
    [-1, 'waitMs must not be less than 0'],
    [30_001, 'waitMs must not be greater than 30000'],
    [1.5, 'waitMs must be an integer number'],
    ['100', 'waitMs must be an integer number'],
  ])('refuses waitMs %p with a 400 naming the field', async (waitMs, message) => {
    await hook('any', 200, {});
    const reply = await call({ webhook: 'any', waitMs });
    expect(reply.status).toBe(400);
    expect(reply.body.message).toContain(message);
  });

  it('answers 503 within waitMs, never hanging, while Redis is unreachable', async () => {
    await hook('down', 200, {});
    await stack.redis.kill();
    try {
      const reply = await call({ webhook: 'down', waitMs: 1_000 });
      expect(reply.status).toBe(503);
      expect(reply.body).toMatchObject({ error: 'redis_unavailable' });
    } finally {
      await stack.redis.restart();
    }
    // A killed Redis may lose its last writes: define the webhook again once it answers.
    await pollUntil(async () => (await stack.api.get(`/v1/bots/${botId}/webhooks`)).status === 200, {
      timeoutMs: 20_000,
      message: 'the API did not answer again once Redis was back',
    });
    await hook('again', 200, { responses: ['back'] });
    expect(await call({ webhook: 'again', waitMs: 10_000 })).toMatchObject({
      status: 200,
      body: { status: 'succeeded' },
    });
  });

  it('refuses waitMs in a batch entry: a batch never waits', async () => {
    await hook('batched', 200, {});
    const reply = await stack.api.post(`/v1/bots/${botId}/calls/batch`, {
      calls: [{ webhook: 'batched', userId, waitMs: 100 }],
    });
    expect(reply.status).toBe(202);
    expect(reply.body.calls[0]).toEqual({ error: { status: 400, message: 'property waitMs should not exist' } });
  });
});

describe('waiting while the API shuts down', () => {
  it('answers a wait still open when the process is stopped, instead of dropping the connection', async () => {
    const [stack, endpoint] = await Promise.all([startHookrunner(), startEndpoint()]);
    try {
      const botId = uniqueId('bot');
      endpoint.reply(`/${botId}/slow`, 200, { responses: ['late'] }, { delayMs: 1_500 });
      const url = `${endpoint.url}/${botId}/slow`;
      await createWebhook(stack.api, botId, { name: 'slow', method: 'POST', url, retry: { attempts: 1 } });
      const waiting = stack.api.post(`/v1/bots/${botId}/calls`, { webhook: 'slow', userId: 'u1', waitMs: 30_000 });
      await pollUntil(() => endpoint.requestsTo(`/${botId}/slow`).length === 1, {
        timeoutMs: 10_000,
        message: 'no call',
      });
      const [reply] = await Promise.all([waiting, stack.app.stop()]);
      expect([200, 202]).toContain(reply.status);
      expect(reply.body.callId).toEqual(expect.any(String));
    } finally {
      await Promise.all([stack.stop(), endpoint.close()]);
    }
  });
});
