import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createWebhook,
  enqueueCall,
  EventCollector,
  HookrunnerStack,
  startEndpoint,
  startHookrunner,
  streamEntriesFor,
  subscribeEvents,
  TestEndpoint,
  uniqueId,
} from '../support';

/*
 * The call as the webhook's server sees it (method, URL, query, body, headers, merge tags), and
 * what the bot engine sees when the server misbehaves: retries, timeouts, redirects and replies
 * that break the contract.
 */

const VERSION = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string })
  .version;

describe('pipeline: requests, retries and failures', () => {
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

  /** A path of the endpoint no other test uses. */
  const pathFor = (name: string) => `/${botId}/${name}`;
  const run = async (webhook: string, call: Record<string, unknown> = {}) => {
    const callId = await enqueueCall(stack.api, botId, { webhook, userId, ...call });
    return { callId, event: await events!.waitFor(callId) };
  };

  describe('request building', () => {
    it('GET: params join the query the URL already has; identity headers are set', async () => {
      endpoint.reply(pathFor('get'), 200, { responses: ['ok'] });
      await createWebhook(stack.api, botId, {
        name: 'get',
        method: 'GET',
        url: `${endpoint.url}${pathFor('get')}?fixed=1&x=a%20b`,
        params: { min: '10', q: 'a&b=c', same: 'def' },
      });
      const { callId, event } = await run('get', { params: { same: 'call', extra: 'é' } });
      expect(event.type).toBe('call.succeeded');

      const [req] = endpoint.requestsTo(pathFor('get'));
      expect(req.method).toBe('GET');
      expect(req.url.startsWith(`${pathFor('get')}?fixed=1&x=a%20b&`)).toBe(true);
      expect(Object.fromEntries(req.query)).toEqual({
        fixed: '1',
        x: 'a b',
        min: '10',
        q: 'a&b=c',
        same: 'call',
        extra: 'é',
      });
      expect(req.body).toBe('');
      expect(req.headers['content-type']).toBeUndefined();
      expect(req.headers['user-agent']).toBe(`hookrunner/${VERSION}`);
      expect(req.headers['idempotency-key']).toBe(callId);
    });

    it('POST: params are the JSON body, with content-type application/json', async () => {
      endpoint.reply(pathFor('post'), 200, { responses: ['ok'] });
      await createWebhook(stack.api, botId, {
        name: 'post',
        method: 'POST',
        url: `${endpoint.url}${pathFor('post')}?keep=me`,
        params: { min: '10', max: '20', same: 'def' },
      });
      const { callId } = await run('post', { params: { same: 'call' } });

      const [req] = endpoint.requestsTo(pathFor('post'));
      expect(req.method).toBe('POST');
      expect(req.url).toBe(`${pathFor('post')}?keep=me`);
      expect(req.headers['content-type']).toBe('application/json');
      expect(JSON.parse(req.body)).toEqual({ min: '10', max: '20', same: 'call' });
      expect(req.headers['user-agent']).toBe(`hookrunner/${VERSION}`);
      expect(req.headers['idempotency-key']).toBe(callId);
    });

    it('fills merge tags in URL, params and headers from stored state overlaid by enqueue memory/user', async () => {
      endpoint.reply(pathFor('seed'), 200, {
        memory: { 'favourite-thing': 'kaya toast', city: 'Singapore', 'order.id': 'A/1' },
        user_attributes: { 'first.name': 'Ann', age: 30 },
      });
      await createWebhook(stack.api, botId, { name: 'seed', method: 'POST', url: `${endpoint.url}${pathFor('seed')}` });
      await run('seed');

      endpoint.script(`${pathFor('tags')}/New%20York%2FNY`, (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ responses: ['ok'] }));
      });
      for (const method of ['GET', 'POST']) {
        await createWebhook(stack.api, botId, {
          name: `tags-${method}`,
          method,
          url: `${endpoint.url}${pathFor('tags')}/{{memory.city}}?order={{memory.order.id}}&who={{user.first.name}}`,
          params: {
            thing: '{{memory.favourite-thing}}',
            age: '{{user.age}}',
            missing: '[{{memory.nope}}{{user.nope}}]',
          },
          headers: { 'X-Thing': '{{memory.favourite-thing}}', 'x-user': '{{user.first.name}} ({{user.age}})' },
        });
        const { event } = await run(`tags-${method}`, { memory: { city: 'New York/NY' }, user: { age: 31 } });
        expect(event.type).toBe('call.succeeded');
      }

      const [get, post] = endpoint.requestsTo(`${pathFor('tags')}/New%20York%2FNY`);
      expect(get.url.startsWith(`${pathFor('tags')}/New%20York%2FNY?order=A%2F1&who=Ann&`)).toBe(true);
      expect(Object.fromEntries(get.query)).toEqual({
        order: 'A/1',
        who: 'Ann',
        thing: 'kaya toast',
        age: '31',
        missing: '[]',
      });
      expect(JSON.parse(post.body)).toEqual({ thing: 'kaya toast', age: '31', missing: '[]' });
      for (const req of [get, post]) {
        expect(req.headers['x-thing']).toBe('kaya toast');
        expect(req.headers['x-user']).toBe('Ann (31)');
      }
      // The overlay is for rendering only: the stored memory still has the old city.
      expect((await stack.api.get(`/v1/bots/${botId}/users/${userId}/sessions/default`)).body.memory.city).toBe(
        'Singapore',
      );
    });
  });

  describe('retries', () => {
    it('500, 500, 200: succeeds after 3 attempts with the same idempotency-key each time', async () => {
      endpoint.replySequence(pathFor('flaky'), [
        { status: 500, body: { error: 'down' } },
        { status: 500, body: { error: 'still down' } },
        { status: 200, body: { responses: ['third time lucky'], memory: { tries: 3 } } },
      ]);
      await createWebhook(stack.api, botId, {
        name: 'flaky',
        method: 'POST',
        url: `${endpoint.url}${pathFor('flaky')}`,
        retry: { attempts: 3, backoffMs: 20 },
      });
      const { callId, event } = await run('flaky');

      expect(event).toMatchObject({
        type: 'call.succeeded',
        attempts: 3,
        responses: ['third time lucky'],
        memory: { tries: 3 },
      });
      expect(event.error).toBeUndefined();
      const hits = endpoint.requestsTo(pathFor('flaky'));
      expect(hits.map((r) => r.headers['idempotency-key'])).toEqual([callId, callId, callId]);
      expect((await stack.api.get(`/v1/calls/${callId}`)).body).toMatchObject({ status: 'succeeded', attempts: 3 });
    });

    it('429 with Retry-After: waits at least that long before trying again', async () => {
      endpoint.replySequence(pathFor('busy'), [
        { status: 429, body: {}, headers: { 'retry-after': '1' } },
        { status: 200, body: { responses: ['ok'] } },
      ]);
      await createWebhook(stack.api, botId, {
        name: 'busy',
        method: 'GET',
        url: `${endpoint.url}${pathFor('busy')}`,
        retry: { attempts: 3, backoffMs: 10 },
      });
      const { event } = await run('busy');

      expect(event).toMatchObject({ type: 'call.succeeded', attempts: 2 });
      const [first, second] = endpoint.requestsTo(pathFor('busy'));
      expect(second.time - first.time).toBeGreaterThanOrEqual(990);
    });

    it('404: fails at once with call.failed, empty responses and no state change', async () => {
      endpoint.reply(pathFor('seed'), 200, { memory: { topic: 'shoes' }, user_attributes: { tier: 'gold' } });
      await createWebhook(stack.api, botId, { name: 'seed', method: 'POST', url: `${endpoint.url}${pathFor('seed')}` });
      await run('seed');
      // The body of an error reply is never applied, even when it looks like a valid reply.
      endpoint.reply(pathFor('gone'), 404, {
        responses: ['no'],
        memory: { topic: 'hats' },
        user_attributes: { tier: 'none' },
      });
      await createWebhook(stack.api, botId, {
        name: 'gone',
        method: 'POST',
        url: `${endpoint.url}${pathFor('gone')}`,
        retry: { attempts: 3, backoffMs: 10 },
      });
      const { callId, event } = await run('gone');

      expect(event).toEqual({
        type: 'call.failed',
        callId,
        botId,
        userId,
        sessionId: 'default',
        webhook: 'gone',
        responses: [],
        quickreplies: [],
        memory: { topic: 'shoes' },
        userAttributes: { tier: 'gold' },
        changes: { memory: {}, userAttributes: {} },
        attempts: 1,
        durationMs: expect.any(Number),
        finishedAt: expect.any(String),
        error: { type: 'http_status', message: expect.stringContaining('404'), httpStatus: 404 },
      });
      expect(endpoint.requestsTo(pathFor('gone'))).toHaveLength(1);
      const stream = await streamEntriesFor(stack.client, callId);
      expect(stream.map((s) => s.event)).toEqual([event]);
      const status = await stack.api.get(`/v1/calls/${callId}`);
      expect(status.body).toMatchObject({
        status: 'failed',
        attempts: 1,
        finishedAt: event.finishedAt,
        error: { type: 'http_status', httpStatus: 404 },
      });
      expect(status.body.result).toBeUndefined();
      expect((await stack.api.get(`/v1/bots/${botId}/users/${userId}/sessions/default`)).body).toEqual({
        memory: { topic: 'shoes' },
      });
      expect((await stack.api.get(`/v1/bots/${botId}/users/${userId}`)).body).toEqual({ attributes: { tier: 'gold' } });
    });

    it('301: fails as http_status and the redirect is not followed', async () => {
      endpoint.reply(pathFor('target'), 200, { responses: ['you should not be here'] });
      endpoint.reply(pathFor('moved'), 301, {}, { headers: { location: `${endpoint.url}${pathFor('target')}` } });
      await createWebhook(stack.api, botId, {
        name: 'moved',
        method: 'GET',
        url: `${endpoint.url}${pathFor('moved')}`,
        retry: { attempts: 3, backoffMs: 10 },
      });
      const { callId, event } = await run('moved');

      expect(event).toMatchObject({
        type: 'call.failed',
        attempts: 1,
        responses: [],
        error: { type: 'http_status', httpStatus: 301 },
      });
      expect(endpoint.requestsTo(pathFor('moved'))).toHaveLength(1);
      expect(endpoint.requestsTo(pathFor('target'))).toHaveLength(0);
      expect((await stack.api.get(`/v1/calls/${callId}`)).body).toMatchObject({
        status: 'failed',
        error: { type: 'http_status', httpStatus: 301 },
      });
    });

    it('an endpoint slower than timeoutMs fails as timeout after retry.attempts attempts', async () => {
      endpoint.reply(pathFor('slow'), 200, { responses: ['too late'] }, { delayMs: 5_000 });
      await createWebhook(stack.api, botId, {
        name: 'slow',
        method: 'POST',
        url: `${endpoint.url}${pathFor('slow')}`,
        timeoutMs: 300,
        retry: { attempts: 2, backoffMs: 10 },
      });
      const started = Date.now();
      const { callId, event } = await run('slow');

      expect(event).toMatchObject({ type: 'call.failed', attempts: 2, responses: [], error: { type: 'timeout' } });
      expect(event.error!.httpStatus).toBeUndefined();
      expect(endpoint.requestsTo(pathFor('slow'))).toHaveLength(2);
      // Each attempt was cut off at its timeout, not left to run for the endpoint's 5 s.
      expect(Date.now() - started).toBeLessThan(4_000);
      expect((await stack.api.get(`/v1/calls/${callId}`)).body).toMatchObject({
        status: 'failed',
        attempts: 2,
        error: { type: 'timeout' },
      });
    });

    it('timeoutMs bounds the body too: a reply whose body trickles in past it times out', async () => {
      endpoint.script(pathFor('trickle'), (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"responses":["');
        setTimeout(() => res.end('late"]}'), 3_000).unref();
      });
      await createWebhook(stack.api, botId, {
        name: 'trickle',
        method: 'GET',
        url: `${endpoint.url}${pathFor('trickle')}`,
        timeoutMs: 300,
        retry: { attempts: 1, backoffMs: 0 },
      });
      const started = Date.now();
      const { event } = await run('trickle');

      expect(event).toMatchObject({ type: 'call.failed', attempts: 1, error: { type: 'timeout' } });
      expect(Date.now() - started).toBeLessThan(2_500);
    });
  });

  describe('invalid responses fail at once as invalid_response', () => {
    const notJsonReason = (() => {
      try {
        JSON.parse('hello, bot');
      } catch (err) {
        return (err as Error).message.slice(0, 100);
      }
      return '';
    })();

    it.each([
      ['not JSON', 'hello, bot', `body is not valid JSON: ${notJsonReason}`],
      ['an array', '["a","b"]', 'body must be a JSON object, got array'],
      [
        'none of the keys',
        '{"reply":"hi","data":{}}',
        'body must contain at least one of responses, memory, user_attributes, quickreplies',
      ],
      ['quickreplies[2] not a string', '{"quickreplies":["a","b",3]}', 'quickreplies[2] must be a string'],
      ['memory not an object', '{"responses":["x"],"memory":["a"]}', 'memory must be an object'],
      ['a body over 1 MiB', `{"responses":["${'x'.repeat(1024 * 1024)}"]}`, 'body exceeds 1048576 bytes'],
    ])('%s', async (_case, body, message) => {
      endpoint.reply(pathFor('bad'), 200, body);
      await createWebhook(stack.api, botId, {
        name: 'bad',
        method: 'POST',
        url: `${endpoint.url}${pathFor('bad')}`,
        retry: { attempts: 3, backoffMs: 10 },
      });
      const { callId, event } = await run('bad');

      expect(event).toMatchObject({
        type: 'call.failed',
        attempts: 1,
        responses: [],
        quickreplies: [],
        changes: { memory: {}, userAttributes: {} },
      });
      expect(event.error).toEqual({ type: 'invalid_response', message });
      expect(endpoint.requestsTo(pathFor('bad'))).toHaveLength(1);
      expect((await stack.api.get(`/v1/calls/${callId}`)).body).toMatchObject({
        status: 'failed',
        error: { type: 'invalid_response', message },
      });
    });
  });
});
