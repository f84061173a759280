import type { CallEvent } from '@hookrunner/contracts';
import {
  AppProcess,
  createWebhook,
  enqueueCall,
  EventCollector,
  freePort,
  HookrunnerStack,
  pollUntil,
  startApp,
  startEndpoint,
  startHookrunner,
  streamEntriesFor,
  subscribeEvents,
  TestEndpoint,
  uniqueId,
} from '../support';

/*
 * The reference page's five examples end to end: a definition created through the API, a call
 * enqueued through the API, the example server answering, and what the bot engine sees — the
 * pub/sub event, the stream entry, the call's status and the stored state.
 */

interface Expected {
  responses: string[];
  quickreplies: string[];
  memory: Record<string, unknown>;
  userAttributes: Record<string, unknown>;
}

interface Example {
  path: string;
  params: Record<string, string>;
  /** What the event must carry; `changes` is the reply's memory/user_attributes. */
  expected(event: CallEvent): Expected;
  /** The reply as the example server returned it, merge tags unrendered. */
  reply(event: CallEvent): Record<string, unknown>;
}

const EXAMPLES: Example[] = [
  {
    path: 'random_number',
    params: { min: '10', max: '20' },
    expected: (event) => {
      const n = event.changes.memory.random_number as number;
      expect(Number.isInteger(n) && n >= 10 && n <= 20).toBe(true);
      return {
        responses: [`Your random number is ${n}`],
        quickreplies: [],
        memory: { random_number: n },
        userAttributes: {},
      };
    },
    reply: (event) => ({
      responses: [`Your random number is ${String(event.changes.memory.random_number)}`],
      quickreplies: [],
      memory: { random_number: event.changes.memory.random_number },
      user_attributes: {},
    }),
  },
  {
    path: 'responses',
    params: {},
    expected: () => ({
      responses: ['Hello from the webhook!', 'This line was added by a webhook.'],
      quickreplies: [],
      memory: {},
      userAttributes: {},
    }),
    reply: () => ({
      responses: ['Hello from the webhook!', 'This line was added by a webhook.'],
      quickreplies: [],
      memory: {},
      user_attributes: {},
    }),
  },
  {
    path: 'memory',
    params: { thing: 'kaya toast' },
    expected: () => ({
      responses: ['I will remember that you like kaya toast.'],
      quickreplies: [],
      memory: { 'favourite-thing': 'kaya toast' },
      userAttributes: {},
    }),
    reply: () => ({
      responses: ['I will remember that you like {{memory.favourite-thing}}.'],
      quickreplies: [],
      memory: { 'favourite-thing': 'kaya toast' },
      user_attributes: {},
    }),
  },
  {
    path: 'user_attributes',
    params: { age: '31' },
    expected: () => ({
      responses: ['You are 31 years old.'],
      quickreplies: [],
      memory: {},
      userAttributes: { age: 31 },
    }),
    reply: () => ({
      responses: ['You are {{user.age}} years old.'],
      quickreplies: [],
      memory: {},
      user_attributes: { age: 31 },
    }),
  },
  {
    path: 'quickreplies',
    params: {},
    expected: () => ({ responses: ['Pick one'], quickreplies: ['Yes', 'No', 'Maybe'], memory: {}, userAttributes: {} }),
    reply: () => ({ responses: ['Pick one'], quickreplies: ['Yes', 'No', 'Maybe'], memory: {}, user_attributes: {} }),
  },
];

describe('pipeline: the reference examples and stored state', () => {
  let stack: HookrunnerStack;
  let examples: AppProcess;
  let examplesUrl: string;
  let endpoint: TestEndpoint;
  let events: EventCollector | undefined;

  beforeAll(async () => {
    const port = await freePort();
    [stack, examples, endpoint] = await Promise.all([
      startHookrunner(),
      startApp('examples', { EXAMPLES_PORT: String(port) }),
      startEndpoint(),
    ]);
    examplesUrl = `http://127.0.0.1:${port}`;
  });

  afterEach(async () => {
    await events?.close();
    events = undefined;
  });

  afterAll(async () => {
    await Promise.all([stack?.stop(), examples?.stop(), endpoint?.close()]);
  });

  describe.each(['GET', 'POST'] as const)('%s definitions', (method) => {
    it.each(EXAMPLES.map((e) => [e.path, e] as const))(
      '%s: event, stream, call status and state',
      async (_path, example) => {
        const botId = uniqueId('bot');
        const userId = uniqueId('user');
        // GET calls use the default session, POST calls a named one: both must be stored where asked.
        const sessionId = method === 'GET' ? undefined : 'chat-1';
        events = await subscribeEvents(stack.redis.url, botId);
        const created = await createWebhook(stack.api, botId, {
          name: example.path,
          method,
          url: `${examplesUrl}/${example.path}`,
          params: example.params,
        });
        expect(created).toMatchObject({ name: example.path, method, params: example.params });

        const before = Date.now();
        const enqueued = await stack.api.post(`/v1/bots/${botId}/calls`, {
          webhook: example.path,
          userId,
          ...(sessionId ? { sessionId } : {}),
        });
        expect(enqueued.status).toBe(202);
        expect(enqueued.body).toEqual({ callId: expect.any(String), status: 'queued' });
        const { callId } = enqueued.body;

        const event = await events.waitFor(callId);
        const after = Date.now();
        const expected = example.expected(event);
        expect(event).toEqual({
          type: 'call.succeeded',
          callId,
          botId,
          userId,
          sessionId: sessionId ?? 'default',
          webhook: example.path,
          responses: expected.responses,
          quickreplies: expected.quickreplies,
          memory: expected.memory,
          userAttributes: expected.userAttributes,
          changes: { memory: expected.memory, userAttributes: expected.userAttributes },
          attempts: 1,
          durationMs: expect.any(Number),
          finishedAt: expect.any(String),
        });
        expect(event.durationMs).toBeGreaterThanOrEqual(0);
        expect(event.durationMs).toBeLessThanOrEqual(after - before);
        const finishedAt = Date.parse(event.finishedAt);
        expect(new Date(finishedAt).toISOString()).toBe(event.finishedAt);
        expect(finishedAt).toBeGreaterThanOrEqual(before);
        expect(finishedAt).toBeLessThanOrEqual(after);

        const stream = await streamEntriesFor(stack.client, callId);
        expect(stream).toHaveLength(1);
        expect(stream[0].fields).toMatchObject({ type: 'call.succeeded', botId, callId });
        expect(stream[0].event).toEqual(event);

        const status = await stack.api.get(`/v1/calls/${callId}`);
        expect(status.status).toBe(200);
        expect(status.body).toMatchObject({
          callId,
          botId,
          webhook: example.path,
          userId,
          sessionId: sessionId ?? 'default',
          status: 'succeeded',
          attempts: 1,
          createdAt: expect.any(String),
          finishedAt: event.finishedAt,
        });
        expect(status.body.result).toEqual(example.reply(event));
        expect(status.body.error).toBeUndefined();
        expect(Date.parse(status.body.createdAt)).toBeGreaterThanOrEqual(before - 1);
        expect(Date.parse(status.body.createdAt)).toBeLessThanOrEqual(finishedAt);

        const profile = await stack.api.get(`/v1/bots/${botId}/users/${userId}`);
        expect(profile).toMatchObject({ status: 200, body: { attributes: expected.userAttributes } });
        const session = await stack.api.get(`/v1/bots/${botId}/users/${userId}/sessions/${sessionId ?? 'default'}`);
        expect(session).toMatchObject({ status: 200, body: { memory: expected.memory } });
      },
    );
  });

  it('renders merge tags in responses from the state merged with earlier calls', async () => {
    const botId = uniqueId('bot');
    const userId = uniqueId('user');
    events = await subscribeEvents(stack.redis.url, botId);
    await createWebhook(stack.api, botId, {
      name: 'remember',
      method: 'POST',
      url: `${examplesUrl}/memory`,
      params: { thing: 'laksa' },
    });
    await createWebhook(stack.api, botId, {
      name: 'age',
      method: 'GET',
      url: `${examplesUrl}/user_attributes`,
      params: { age: '40' },
    });
    endpoint.reply('/recall', 200, {
      responses: ['{{user.age}} and likes {{memory.favourite-thing}}{{memory.unknown}}'],
      quickreplies: ['{{memory.favourite-thing}}!'],
    });
    await createWebhook(stack.api, botId, { name: 'recall', method: 'GET', url: `${endpoint.url}/recall` });

    await events.waitFor(await enqueueCall(stack.api, botId, { webhook: 'remember', userId }));
    await events.waitFor(await enqueueCall(stack.api, botId, { webhook: 'age', userId }));
    const recalled = await events.waitFor(await enqueueCall(stack.api, botId, { webhook: 'recall', userId }));
    expect(recalled).toMatchObject({
      responses: ['40 and likes laksa'],
      quickreplies: ['laksa!'],
      memory: { 'favourite-thing': 'laksa' },
      userAttributes: { age: 40 },
      changes: { memory: {}, userAttributes: {} },
    });
  });

  it('deletes a memory key returned as null and keeps the others', async () => {
    const botId = uniqueId('bot');
    const userId = uniqueId('user');
    events = await subscribeEvents(stack.redis.url, botId);
    const path = `/${botId}/forget`;
    endpoint.replySequence(path, [
      { status: 200, body: { memory: { topic: 'shoes', size: 42 }, user_attributes: { tier: 'gold', city: 'SG' } } },
      { status: 200, body: { memory: { topic: null, colour: 'red' }, user_attributes: { city: null } } },
    ]);
    await createWebhook(stack.api, botId, { name: 'forget', method: 'POST', url: `${endpoint.url}${path}` });

    const first = await events.waitFor(await enqueueCall(stack.api, botId, { webhook: 'forget', userId }));
    expect(first.memory).toEqual({ topic: 'shoes', size: 42 });
    const second = await events.waitFor(await enqueueCall(stack.api, botId, { webhook: 'forget', userId }));
    expect(second).toMatchObject({
      memory: { size: 42, colour: 'red' },
      userAttributes: { tier: 'gold' },
      changes: { memory: { topic: null, colour: 'red' }, userAttributes: { city: null } },
    });
    expect(second.memory).toEqual({ size: 42, colour: 'red' });
    expect(second.userAttributes).toEqual({ tier: 'gold' });
    expect((await stack.api.get(`/v1/bots/${botId}/users/${userId}/sessions/default`)).body).toEqual({
      memory: { size: 42, colour: 'red' },
    });
    expect((await stack.api.get(`/v1/bots/${botId}/users/${userId}`)).body).toEqual({ attributes: { tier: 'gold' } });
  });

  it('keeps both memory keys when two calls for one user finish together', async () => {
    const botId = uniqueId('bot');
    const userId = uniqueId('user');
    events = await subscribeEvents(stack.redis.url, botId);
    // Each endpoint echoes the round it was called for, so every round's values are new.
    for (const side of ['left', 'right']) {
      endpoint.script(`/${botId}/${side}`, (req, res) => {
        const round = JSON.parse(req.body).round as string;
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ memory: { [side]: round }, user_attributes: { [`${side}-seen`]: round } }));
        }, 30);
      });
      await createWebhook(stack.api, botId, {
        name: side,
        method: 'POST',
        url: `${endpoint.url}/${botId}/${side}`,
        retry: { attempts: 1, backoffMs: 0 },
      });
    }

    for (let round = 1; round <= 5; round++) {
      const params = { round: String(round) };
      const callIds = await Promise.all(
        ['left', 'right'].map((webhook) => enqueueCall(stack.api, botId, { webhook, userId, params })),
      );
      const finished = await events.waitForAll(callIds);
      expect(finished.map((e) => e.type)).toEqual(['call.succeeded', 'call.succeeded']);
      const memory = { left: String(round), right: String(round) };
      const attributes = { 'left-seen': String(round), 'right-seen': String(round) };
      expect((await stack.api.get(`/v1/bots/${botId}/users/${userId}/sessions/default`)).body).toEqual({ memory });
      expect((await stack.api.get(`/v1/bots/${botId}/users/${userId}`)).body).toEqual({ attributes });
      // Whichever merged second saw the other's key already there.
      expect(
        finished.filter((e) => e.memory.left === String(round) && e.memory.right === String(round)),
      ).not.toHaveLength(0);
      expect(
        finished.filter(
          (e) => e.userAttributes['left-seen'] === String(round) && e.userAttributes['right-seen'] === String(round),
        ),
      ).not.toHaveLength(0);
    }
  });
});

describe('pipeline: session expiry', () => {
  const SESSION_TTL_SECONDS = 2;
  let stack: HookrunnerStack;
  let endpoint: TestEndpoint;
  let events: EventCollector | undefined;

  beforeAll(async () => {
    [stack, endpoint] = await Promise.all([
      startHookrunner({ SESSION_TTL_SECONDS: String(SESSION_TTL_SECONDS) }),
      startEndpoint(),
    ]);
  });

  afterAll(async () => {
    await events?.close();
    await Promise.all([stack?.stop(), endpoint?.close()]);
  });

  it('forgets session memory after SESSION_TTL_SECONDS of inactivity and keeps the profile', async () => {
    const botId = uniqueId('bot');
    const userId = uniqueId('user');
    events = await subscribeEvents(stack.redis.url, botId);
    endpoint.reply('/remember', 200, { memory: { topic: 'refund' }, user_attributes: { plan: 'pro' } });
    await createWebhook(stack.api, botId, { name: 'remember', method: 'POST', url: `${endpoint.url}/remember` });

    const event = await events.waitFor(
      await enqueueCall(stack.api, botId, { webhook: 'remember', userId, sessionId: 's1' }),
    );
    const finishedAt = Date.parse(event.finishedAt);
    const sessionPath = `/v1/bots/${botId}/users/${userId}/sessions/s1`;
    const profilePath = `/v1/bots/${botId}/users/${userId}`;
    expect((await stack.api.get(sessionPath)).body).toEqual({ memory: { topic: 'refund' } });

    await pollUntil(async () => Object.keys((await stack.api.get(sessionPath)).body.memory).length === 0, {
      timeoutMs: SESSION_TTL_SECONDS * 1000 + 5_000,
      intervalMs: 100,
      message: 'session memory did not expire',
    });
    // Not before the session had been idle for the whole TTL (less a little clock slack).
    expect(Date.now() - finishedAt).toBeGreaterThanOrEqual(SESSION_TTL_SECONDS * 1000 - 250);
    expect((await stack.api.get(profilePath)).body).toEqual({ attributes: { plan: 'pro' } });

    // A new call starts a fresh session; the profile is still there for merge tags.
    endpoint.reply('/again', 200, { responses: ['on {{user.plan}}, topic "{{memory.topic}}"'] });
    await createWebhook(stack.api, botId, { name: 'again', method: 'GET', url: `${endpoint.url}/again` });
    const again = await events.waitFor(
      await enqueueCall(stack.api, botId, { webhook: 'again', userId, sessionId: 's1' }),
    );
    expect(again).toMatchObject({ responses: ['on pro, topic ""'], memory: {}, userAttributes: { plan: 'pro' } });
  });
});

describe('Redis that lost its data', () => {
  let stack: HookrunnerStack;
  let endpoint: TestEndpoint;

  beforeAll(async () => {
    [stack, endpoint] = await Promise.all([startHookrunner(), startEndpoint()]);
    endpoint.reply('/hello', 200, { responses: ['hello'] });
  });

  afterAll(async () => {
    await Promise.all([stack?.stop(), endpoint?.close()]);
  });

  it('delivers the next call once the webhook is redefined; logs no error for the lost results streams', async () => {
    const botId = uniqueId('bot');
    const events = await subscribeEvents(stack.redis.url, botId);
    try {
      await createWebhook(stack.api, botId, { name: 'hello', method: 'GET', url: `${endpoint.url}/hello` });
      await events.waitFor(await enqueueCall(stack.api, botId, { webhook: 'hello', userId: 'u1' }));

      // The results consumer is blocked reading its streams: FLUSHALL ends those reads (UNBLOCKED).
      await stack.client.flushall();
      await createWebhook(stack.api, botId, { name: 'hello', method: 'GET', url: `${endpoint.url}/hello` });
      const event = await events.waitFor(await enqueueCall(stack.api, botId, { webhook: 'hello', userId: 'u2' }));

      expect(event).toMatchObject({ type: 'call.succeeded', responses: ['hello'] });
      expect(stack.app.output()).not.toMatch(/results consumer error/);
    } finally {
      await events.close();
    }
  });
});
