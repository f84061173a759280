import {
  createWebhook,
  enqueueCall,
  EventCollector,
  HookrunnerStack,
  pollUntil,
  startEndpoint,
  startHookrunner,
  subscribeEvents,
  TestEndpoint,
  uniqueId,
  waitForIdleQueues,
} from '../support';

/*
 * The API around the calls: idempotency keys, batches, a call's status while it runs, the
 * authoring "test" button and the definitions' CRUD.
 */

describe('pipeline: the API around the calls', () => {
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

  const pathFor = (name: string) => `/${botId}/${name}`;
  const hook = async (name: string, reply: unknown = { responses: [name] }, extra: Record<string, unknown> = {}) => {
    endpoint.reply(pathFor(name), 200, reply);
    return createWebhook(stack.api, botId, { name, method: 'POST', url: `${endpoint.url}${pathFor(name)}`, ...extra });
  };

  describe('idempotency keys', () => {
    it('the same key twice gives the same callId, one call and one event', async () => {
      await hook('once', { memory: { n: 1 } });
      const call = { webhook: 'once', userId, idempotencyKey: 'msg-42' };
      const first = await stack.api.post(`/v1/bots/${botId}/calls`, call);
      expect(first).toMatchObject({ status: 202, body: { callId: expect.any(String), status: 'queued' } });
      await events!.waitFor(first.body.callId);
      const second = await stack.api.post(`/v1/bots/${botId}/calls`, { ...call, params: { other: 'params' } });
      expect(second).toMatchObject({ status: 202, body: { callId: first.body.callId, status: 'queued' } });

      await waitForIdleQueues(stack.client);
      expect(events!.events.map((e) => e.callId)).toEqual([first.body.callId]);
      expect(endpoint.requestsTo(pathFor('once'))).toHaveLength(1);
    });

    it('the same key sent twice at once is still one call', async () => {
      await hook('race');
      const call = { webhook: 'race', userId, idempotencyKey: 'msg-race' };
      const replies = await Promise.all([1, 2, 3].map(() => stack.api.post(`/v1/bots/${botId}/calls`, call)));
      expect(replies.map((r) => r.status)).toEqual([202, 202, 202]);
      expect(new Set(replies.map((r) => r.body.callId)).size).toBe(1);
      await events!.waitFor(replies[0].body.callId);
      await waitForIdleQueues(stack.client);
      expect(events!.events).toHaveLength(1);
      expect(endpoint.requestsTo(pathFor('race'))).toHaveLength(1);
    });

    it('another bot with the same key gets a call of its own', async () => {
      await hook('shared');
      const otherBot = uniqueId('bot');
      const otherEvents = await subscribeEvents(stack.redis.url, otherBot);
      try {
        await createWebhook(stack.api, otherBot, {
          name: 'shared',
          method: 'POST',
          url: `${endpoint.url}${pathFor('shared')}`,
        });
        const mine = await enqueueCall(stack.api, botId, { webhook: 'shared', userId, idempotencyKey: 'same-key' });
        const theirs = await enqueueCall(stack.api, otherBot, {
          webhook: 'shared',
          userId,
          idempotencyKey: 'same-key',
        });
        expect(theirs).not.toBe(mine);
        expect((await events!.waitFor(mine)).botId).toBe(botId);
        expect((await otherEvents.waitFor(theirs)).botId).toBe(otherBot);
        expect(endpoint.requestsTo(pathFor('shared'))).toHaveLength(2);
      } finally {
        await otherEvents.close();
      }
    });
  });

  it('batch: answers every entry in order and enqueues only the valid ones', async () => {
    await hook('a', { memory: { a: 1 } });
    await hook('b', { memory: { b: 2 } });
    const reply = await stack.api.post(`/v1/bots/${botId}/calls/batch`, {
      calls: [
        { webhook: 'a', userId },
        { webhook: 'a', userId: 'not a valid id!' },
        { webhook: 'b', userId, sessionId: 's2' },
        { webhook: 'no-such-webhook', userId },
        { webhook: 'a', userId: `${userId}-2` },
      ],
    });
    expect(reply.status).toBe(202);
    const calls = reply.body.calls as Array<{ callId?: string; error?: { status: number; message: string } }>;
    expect(calls).toHaveLength(5);
    expect(calls[0]).toEqual({ callId: expect.any(String) });
    expect(calls[1]).toEqual({ error: { status: 400, message: expect.stringContaining('userId') } });
    expect(calls[2]).toEqual({ callId: expect.any(String) });
    expect(calls[3]).toEqual({ error: { status: 404, message: expect.stringContaining('no-such-webhook') } });
    expect(calls[4]).toEqual({ callId: expect.any(String) });

    const ids = [calls[0].callId!, calls[2].callId!, calls[4].callId!];
    expect(new Set(ids).size).toBe(3);
    const finished = await events!.waitForAll(ids);
    expect(finished.map((e) => [e.webhook, e.userId, e.sessionId, e.type])).toEqual([
      ['a', userId, 'default', 'call.succeeded'],
      ['b', userId, 's2', 'call.succeeded'],
      ['a', `${userId}-2`, 'default', 'call.succeeded'],
    ]);
    await waitForIdleQueues(stack.client);
    expect(events!.events).toHaveLength(3);
    expect(endpoint.requestsTo(pathFor('a'))).toHaveLength(2);
    expect(endpoint.requestsTo(pathFor('b'))).toHaveLength(1);
  });

  describe('GET /v1/calls/{callId}', () => {
    it('shows running, then retrying during the backoff, then succeeded', async () => {
      endpoint.replySequence(pathFor('slow'), [
        { status: 500, body: {}, delayMs: 700 },
        { status: 200, body: { responses: ['done'] }, delayMs: 700 },
      ]);
      await createWebhook(stack.api, botId, {
        name: 'slow',
        method: 'GET',
        url: `${endpoint.url}${pathFor('slow')}`,
        retry: { attempts: 2, backoffMs: 1_500 },
      });
      const callId = await enqueueCall(stack.api, botId, { webhook: 'slow', userId });

      const seen: string[] = [];
      const final = await pollUntil(
        async () => {
          const { status, body } = await stack.api.get(`/v1/calls/${callId}`);
          expect(status).toBe(200);
          if (seen[seen.length - 1] !== body.status) seen.push(body.status);
          return ['succeeded', 'failed'].includes(body.status) ? body : undefined;
        },
        { timeoutMs: 10_000, intervalMs: 20, message: 'the call did not finish' },
      );
      expect(seen.filter((s) => s !== 'queued')).toEqual(['running', 'retrying', 'running', 'succeeded']);
      expect(final).toMatchObject({
        callId,
        botId,
        webhook: 'slow',
        userId,
        sessionId: 'default',
        status: 'succeeded',
        attempts: 2,
      });
    });

    it('answers 404 for an unknown callId', async () => {
      const reply = await stack.api.get('/v1/calls/00000000-0000-4000-8000-000000000000');
      expect(reply.status).toBe(404);
      expect(reply.body.message).toContain('00000000-0000-4000-8000-000000000000');
    });
  });

  describe('the test button', () => {
    const secret = 'Bearer sk_live_do-not-show';

    it('calls once and reports request, response and validity, with secrets masked and no state change', async () => {
      endpoint.reply(pathFor('seed'), 200, { memory: { city: 'Ipoh' }, user_attributes: { tier: 'gold' } });
      await createWebhook(stack.api, botId, { name: 'seed', method: 'POST', url: `${endpoint.url}${pathFor('seed')}` });
      const seeded = await events!.waitFor(await enqueueCall(stack.api, botId, { webhook: 'seed', userId }));
      endpoint.reply(pathFor('try'), 200, {
        responses: ['hi {{user.tier}}'],
        memory: { city: 'Penang' },
        user_attributes: { tier: 'silver' },
      });
      await createWebhook(stack.api, botId, {
        name: 'try',
        method: 'POST',
        url: `${endpoint.url}${pathFor('try')}`,
        params: { city: '{{memory.city}}', who: '{{user.name}}' },
        headers: { Authorization: secret, 'x-api-key': 'key-123' },
      });

      const reply = await stack.api.post(`/v1/bots/${botId}/webhooks/try/test`, {
        userId,
        user: { name: 'Mei' },
        params: { extra: '1' },
      });
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({
        request: {
          method: 'POST',
          url: `${endpoint.url}${pathFor('try')}`,
          headers: expect.objectContaining({
            authorization: '***',
            'x-api-key': '***',
            'content-type': 'application/json',
          }),
          body: expect.any(String),
        },
        response: {
          status: 200,
          headers: expect.any(Object),
          body: expect.any(String),
          durationMs: expect.any(Number),
        },
        valid: true,
      });
      expect(JSON.parse(reply.body.request.body)).toEqual({ city: 'Ipoh', who: 'Mei', extra: '1' });
      expect(JSON.parse(reply.body.response.body)).toEqual({
        responses: ['hi {{user.tier}}'],
        memory: { city: 'Penang' },
        user_attributes: { tier: 'silver' },
      });
      expect(reply.text).not.toContain('sk_live');
      expect(reply.text).not.toContain('key-123');
      // The endpoint itself got the real credentials.
      const [received] = endpoint.requestsTo(pathFor('try'));
      expect(received.headers.authorization).toBe(secret);
      expect(received.headers['x-api-key']).toBe('key-123');

      expect((await stack.api.get(`/v1/bots/${botId}/users/${userId}/sessions/default`)).body).toEqual({
        memory: seeded.memory,
      });
      expect((await stack.api.get(`/v1/bots/${botId}/users/${userId}`)).body).toEqual({
        attributes: seeded.userAttributes,
      });
      await waitForIdleQueues(stack.client);
      expect(events!.events.map((e) => e.webhook)).toEqual(['seed']);
    });

    it.each([
      ['an invalid reply', 200, { quickreplies: ['ok', 7] }, ['quickreplies[1] must be a string']],
      ['an HTTP error', 500, { responses: ['x'] }, [expect.stringContaining('500')]],
    ])('reports %s as valid: false with errors, and does not retry', async (_case, status, body, errors) => {
      endpoint.reply(pathFor('broken'), status, body);
      await createWebhook(stack.api, botId, {
        name: 'broken',
        method: 'GET',
        url: `${endpoint.url}${pathFor('broken')}`,
        retry: { attempts: 3, backoffMs: 10 },
      });
      const reply = await stack.api.post(`/v1/bots/${botId}/webhooks/broken/test`, {});
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ response: { status }, valid: false, errors });
      expect(endpoint.requestsTo(pathFor('broken'))).toHaveLength(1);
      await waitForIdleQueues(stack.client);
      expect(events!.events).toHaveLength(0);
    });
  });

  describe('webhook definitions', () => {
    const base = (url: string) => ({
      method: 'GET',
      url,
      params: { min: '10', max: '20' },
      headers: { Authorization: 'Bearer abc', 'X-Team': 'blue' },
    });
    const masked = { authorization: '***', 'x-team': '***' };

    it('create 201, list, get, replace 200 (createdAt kept), delete 204, then 404; header values masked', async () => {
      const name = 'Get random / number?';
      const path = `/v1/bots/${botId}/webhooks/${encodeURIComponent(name)}`;
      const created = await stack.api.post(`/v1/bots/${botId}/webhooks`, { name, ...base(`${endpoint.url}/r`) });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        name,
        method: 'GET',
        url: `${endpoint.url}/r`,
        params: { min: '10', max: '20' },
        headers: masked,
        timeoutMs: 10_000,
        retry: { attempts: 3, backoffMs: 1_000 },
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });

      const duplicate = await stack.api.post(`/v1/bots/${botId}/webhooks`, { name, ...base(`${endpoint.url}/other`) });
      expect(duplicate.status).toBe(409);
      expect(duplicate.body.message).toContain(name);

      await createWebhook(stack.api, botId, {
        name: 'another',
        method: 'POST',
        url: `${endpoint.url}/x`,
        headers: { 'x-token': 't0ken' },
      });
      const list = await stack.api.get(`/v1/bots/${botId}/webhooks`);
      expect(list.status).toBe(200);
      expect(list.body.webhooks.map((w: { name: string }) => w.name).sort()).toEqual([
        'Get random / number?',
        'another',
      ]);
      expect(list.body.webhooks.find((w: { name: string }) => w.name === name)).toEqual({
        ...created.body,
        health: { circuit: 'closed', failureRatio: expect.any(Number) },
      });
      expect(list.text).not.toMatch(/abc|blue|t0ken/);

      const got = await stack.api.get(path);
      expect(got).toMatchObject({ status: 200, body: created.body });

      const replaced = await stack.api.put(path, {
        method: 'POST',
        url: `${endpoint.url}/v2`,
        headers: { 'X-Team': 'red' },
        timeoutMs: 2_000,
        retry: { attempts: 5, backoffMs: 50 },
      });
      expect(replaced.status).toBe(200);
      expect(replaced.body).toEqual({
        name,
        method: 'POST',
        url: `${endpoint.url}/v2`,
        params: {},
        headers: { 'x-team': '***' },
        timeoutMs: 2_000,
        retry: { attempts: 5, backoffMs: 50 },
        createdAt: created.body.createdAt,
        updatedAt: expect.any(String),
      });
      expect(Date.parse(replaced.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.body.updatedAt));
      expect((await stack.api.get(path)).body).toEqual({
        ...replaced.body,
        health: { circuit: 'closed', failureRatio: expect.any(Number) },
      });

      const deleted = await stack.api.delete(path);
      expect(deleted.status).toBe(204);
      expect(deleted.text).toBe('');
      for (const again of [
        stack.api.get(path),
        stack.api.delete(path),
        stack.api.put(path, base(`${endpoint.url}/r`)),
      ]) {
        const res = await again;
        expect(res.status).toBe(404);
        expect(res.body.message).toContain(name);
      }
      expect(
        (await stack.api.get(`/v1/bots/${botId}/webhooks`)).body.webhooks.map((w: { name: string }) => w.name),
      ).toEqual(['another']);
    });

    it('calls use the real header values and the replaced definition', async () => {
      await createWebhook(stack.api, botId, { name: 'auth', ...base(`${endpoint.url}${pathFor('v1')}`) });
      endpoint.reply(pathFor('v1'), 200, { responses: ['v1'] });
      endpoint.reply(pathFor('v2'), 200, { responses: ['v2'] });
      const first = await events!.waitFor(await enqueueCall(stack.api, botId, { webhook: 'auth', userId }));
      expect(first.responses).toEqual(['v1']);
      expect(endpoint.requestsTo(pathFor('v1'))[0].headers).toMatchObject({
        authorization: 'Bearer abc',
        'x-team': 'blue',
      });

      const put = await stack.api.put(`/v1/bots/${botId}/webhooks/auth`, {
        name: 'auth',
        method: 'POST',
        url: `${endpoint.url}${pathFor('v2')}`,
      });
      expect(put.status).toBe(200);
      const second = await events!.waitFor(await enqueueCall(stack.api, botId, { webhook: 'auth', userId }));
      expect(second.responses).toEqual(['v2']);
      expect(endpoint.requestsTo(pathFor('v2'))[0].headers.authorization).toBeUndefined();

      expect((await stack.api.delete(`/v1/bots/${botId}/webhooks/auth`)).status).toBe(204);
      const gone = await stack.api.post(`/v1/bots/${botId}/calls`, { webhook: 'auth', userId });
      expect(gone.status).toBe(404);
    });
  });
});
