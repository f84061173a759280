import Redis from 'ioredis';
import {
  ApiClient,
  ApiReply,
  isRateBucket,
  redisSnapshot,
  SplitDeployment,
  startSplitDeployment,
  TestEndpoint,
  waitingCallIds,
} from '../support';

/*
 * Bad input to every endpoint: a 4xx whose message names the field and the rule, never a 5xx,
 * and nothing changed — no job enqueued, no definition written, the endpoint never called. The
 * API runs alone (no workers), so anything it enqueued would still be sitting in Redis.
 */

const BOT = 'val-bot';
const HOOK = 'hook';
const LONG = 'x'.repeat(129);
const ENDPOINT = 'http://endpoint.invalid';

interface Case {
  method: string;
  path: string;
  body?: unknown;
  /** Sent instead of JSON.stringify(body). */
  raw?: string;
}

describe('API validation', () => {
  let deployment: SplitDeployment;
  let client: Redis;
  let http: ApiClient;
  let endpoint: TestEndpoint;

  // The endpoint's port is known only once it runs; cases name it by this placeholder.
  const validHook = () => ({ name: HOOK, method: 'POST', url: `${ENDPOINT}/hook` });
  const withEndpoint = (text: string) => text.split(ENDPOINT).join(endpoint.url);
  const validCall = () => ({ webhook: HOOK, userId: 'u1' });
  const validTurn = () => ({ userId: 'u1', calls: [{ webhook: HOOK }] });

  beforeAll(async () => {
    deployment = await startSplitDeployment({ worker: [], results: [] });
    ({ client, endpoint, api: http } = deployment);
    endpoint.reply('/hook', 200, { responses: ['should never be called'] });
    const created = await http.post(`/v1/bots/${BOT}/webhooks`, {
      ...validHook(),
      url: `${endpoint.url}/hook`,
      headers: { 'x-key': 'k' },
    });
    expect(created.status).toBe(201);
  });

  afterAll(() => deployment?.stop());

  /**
   * Every key with its value, less the rate bucket (metering, see isRateBucket): the valid call
   * below takes a token, and the bucket it writes expires on its own during later tests.
   */
  const snapshot = () => redisSnapshot(client, isRateBucket);

  const messageOf = (reply: ApiReply): string => {
    const message = reply.body?.message;
    return Array.isArray(message) ? message.join('\n') : String(message ?? reply.text);
  };

  /** Sends the request and checks that nothing in Redis changed and the endpoint was never called. */
  async function refused(c: Case): Promise<{ status: number; message: string }> {
    const before = await snapshot();
    const waiting = (await waitingCallIds(client)).length;
    const hits = endpoint.requests.length;
    const raw = c.raw ?? (c.body === undefined ? undefined : JSON.stringify(c.body));
    const reply = await http.request(c.method, c.path, undefined, raw === undefined ? {} : { raw: withEndpoint(raw) });
    expect(await snapshot()).toEqual(before);
    expect((await waitingCallIds(client)).length).toBe(waiting);
    expect(endpoint.requests.length).toBe(hits);
    return { status: reply.status, message: messageOf(reply) };
  }

  /** Every endpoint that takes a botId in its path, each with an otherwise valid request. */
  const botEndpoints = (bot: string): Array<[string, Case]> => [
    ['POST webhooks', { method: 'POST', path: `/v1/bots/${bot}/webhooks`, body: { ...validHook(), name: 'new' } }],
    ['GET webhooks', { method: 'GET', path: `/v1/bots/${bot}/webhooks` }],
    ['GET webhook', { method: 'GET', path: `/v1/bots/${bot}/webhooks/${HOOK}` }],
    ['PUT webhook', { method: 'PUT', path: `/v1/bots/${bot}/webhooks/${HOOK}`, body: validHook() }],
    ['DELETE webhook', { method: 'DELETE', path: `/v1/bots/${bot}/webhooks/${HOOK}` }],
    ['POST test', { method: 'POST', path: `/v1/bots/${bot}/webhooks/${HOOK}/test`, body: {} }],
    ['POST calls', { method: 'POST', path: `/v1/bots/${bot}/calls`, body: validCall() }],
    ['POST batch', { method: 'POST', path: `/v1/bots/${bot}/calls/batch`, body: { calls: [validCall()] } }],
    ['POST turns', { method: 'POST', path: `/v1/bots/${bot}/turns`, body: validTurn() }],
    ['GET calls', { method: 'GET', path: `/v1/bots/${bot}/calls` }],
    ['POST signing-secret', { method: 'POST', path: `/v1/bots/${bot}/signing-secret` }],
    ['GET stats', { method: 'GET', path: `/v1/bots/${bot}/stats` }],
    ['GET profile', { method: 'GET', path: `/v1/bots/${bot}/users/u1` }],
    ['GET session', { method: 'GET', path: `/v1/bots/${bot}/users/u1/sessions/s1` }],
  ];

  describe('identifiers in the path', () => {
    it.each([
      ['129 characters long', LONG],
      ['with a space', 'bad%20bot'],
      ['with a $', 'bot$'],
      ['with a non-ASCII letter', encodeURIComponent('bót')],
      ['with braces', encodeURIComponent('bot{x}')],
    ])('a botId %s is a 400 naming botId on every endpoint', async (_case, bot) => {
      const outcomes: Array<[string, number, boolean]> = [];
      for (const [name, c] of botEndpoints(bot)) {
        const { status, message } = await refused(c);
        outcomes.push([name, status, /botId/.test(message) && /1-128 characters/.test(message)]);
      }
      expect(outcomes).toEqual(botEndpoints(bot).map(([name]) => [name, 400, true]));
    });

    it.each([
      ['userId', '129 characters long', `/v1/bots/${BOT}/users/${LONG}`],
      ['userId', 'with a space', `/v1/bots/${BOT}/users/a%20b`],
      ['userId', 'with a $', `/v1/bots/${BOT}/users/a%24b/sessions/s1`],
      ['sessionId', '129 characters long', `/v1/bots/${BOT}/users/u1/sessions/${LONG}`],
      ['sessionId', 'with a comma', `/v1/bots/${BOT}/users/u1/sessions/s%2C1`],
      ['callId', '129 characters long', `/v1/calls/${LONG}`],
      ['callId', 'with a space', '/v1/calls/a%20b'],
    ])('a %s %s in the path is a 400 naming it', async (field, _case, path) => {
      const { status, message } = await refused({ method: 'GET', path });
      expect(status).toBe(400);
      expect(message).toContain(field);
      expect(message).toContain('1-128 characters');
    });

    it('identifiers of exactly 128 characters are accepted everywhere', async () => {
      const bot = 'b'.repeat(128);
      const user = 'u'.repeat(128);
      const session = 's'.repeat(128);
      const outcomes = [
        [
          'POST webhooks',
          (await http.post(`/v1/bots/${bot}/webhooks`, { ...validHook(), url: `${endpoint.url}/hook` })).status,
        ],
        ['GET webhooks', (await http.get(`/v1/bots/${bot}/webhooks`)).status],
        ['GET webhook', (await http.get(`/v1/bots/${bot}/webhooks/${HOOK}`)).status],
        [
          'POST calls',
          (await http.post(`/v1/bots/${bot}/calls`, { webhook: HOOK, userId: user, sessionId: session })).status,
        ],
        ['GET profile', (await http.get(`/v1/bots/${bot}/users/${user}`)).status],
        ['GET session', (await http.get(`/v1/bots/${bot}/users/${user}/sessions/${session}`)).status],
      ];
      expect(outcomes).toEqual([
        ['POST webhooks', 201],
        ['GET webhooks', 200],
        ['GET webhook', 200],
        ['POST calls', 202],
        ['GET profile', 200],
        ['GET session', 200],
      ]);
    });
  });

  const webhooks = `/v1/bots/${BOT}/webhooks`;
  const calls = `/v1/bots/${BOT}/calls`;
  const test = `${webhooks}/${HOOK}/test`;
  const put = `${webhooks}/${HOOK}`;
  const without = (field: string) => {
    const { [field]: _dropped, ...rest } = { ...validHook(), name: 'new' } as Record<string, unknown>;
    return rest;
  };
  const newHook = (extra: Record<string, unknown>) => ({ ...validHook(), name: 'new', ...extra });

  it.each<[string, Case, number, string[]]>([
    // Definitions
    ['no name', { method: 'POST', path: webhooks, body: without('name') }, 400, ['name must be a string']],
    [
      'an empty name',
      { method: 'POST', path: webhooks, body: newHook({ name: '' }) },
      400,
      ['name must be longer than or equal to 1 characters'],
    ],
    [
      'a 129-character name',
      { method: 'POST', path: webhooks, body: newHook({ name: LONG }) },
      400,
      ['name must be shorter than or equal to 128 characters'],
    ],
    [
      'a name with a newline',
      { method: 'POST', path: webhooks, body: newHook({ name: 'a\nb' }) },
      400,
      ['name must not contain control characters'],
    ],
    ['no method', { method: 'POST', path: webhooks, body: without('method') }, 400, ['method must be GET or POST']],
    [
      'method PUT',
      { method: 'POST', path: webhooks, body: newHook({ method: 'PUT' }) },
      400,
      ['method must be GET or POST'],
    ],
    ['no url', { method: 'POST', path: webhooks, body: without('url') }, 400, ['url must be']],
    [
      'a relative url',
      { method: 'POST', path: webhooks, body: newHook({ url: '/hook' }) },
      400,
      ['url must be an absolute http(s) URL'],
    ],
    [
      'an ftp:// url',
      { method: 'POST', path: webhooks, body: newHook({ url: 'ftp://example.com/hook' }) },
      400,
      ['url must be an absolute http(s) URL'],
    ],
    [
      'a javascript: url',
      { method: 'POST', path: webhooks, body: newHook({ url: 'javascript:alert(1)' }) },
      400,
      ['url must be an absolute http(s) URL'],
    ],
    [
      'timeoutMs 99',
      { method: 'POST', path: webhooks, body: newHook({ timeoutMs: 99 }) },
      400,
      ['timeoutMs must not be less than 100'],
    ],
    [
      'timeoutMs 60001',
      { method: 'POST', path: webhooks, body: newHook({ timeoutMs: 60_001 }) },
      400,
      ['timeoutMs must not be greater than 60000'],
    ],
    [
      'timeoutMs as a string',
      { method: 'POST', path: webhooks, body: newHook({ timeoutMs: '5000' }) },
      400,
      ['timeoutMs must be an integer number'],
    ],
    [
      'retry.attempts 0',
      { method: 'POST', path: webhooks, body: newHook({ retry: { attempts: 0, backoffMs: 0 } }) },
      400,
      ['retry.attempts must not be less than 1'],
    ],
    [
      'retry.attempts 11',
      { method: 'POST', path: webhooks, body: newHook({ retry: { attempts: 11, backoffMs: 0 } }) },
      400,
      ['retry.attempts must not be greater than 10'],
    ],
    [
      'retry.backoffMs -1',
      { method: 'POST', path: webhooks, body: newHook({ retry: { attempts: 2, backoffMs: -1 } }) },
      400,
      ['retry.backoffMs must not be less than 0'],
    ],
    ['retry not an object', { method: 'POST', path: webhooks, body: newHook({ retry: 3 }) }, 400, ['retry']],
    [
      'a params value that is a number',
      { method: 'POST', path: webhooks, body: newHook({ params: { min: 10 } }) },
      400,
      ['params values must be strings'],
    ],
    [
      'params as an array',
      { method: 'POST', path: webhooks, body: newHook({ params: ['min'] }) },
      400,
      ['params must be an object of string values'],
    ],
    [
      'a header value with CR/LF',
      { method: 'POST', path: webhooks, body: newHook({ headers: { 'x-a': 'v\r\nx-evil: 1' } }) },
      400,
      ['headers.x-a must not contain CR, LF or NUL'],
    ],
    [
      'a header name with CR/LF',
      { method: 'POST', path: webhooks, body: newHook({ headers: { 'x-a\r\nx-evil': 'v' } }) },
      400,
      ['headers names must be HTTP header names'],
    ],
    [
      'a header value that is not a string',
      { method: 'POST', path: webhooks, body: newHook({ headers: { 'x-a': 1 } }) },
      400,
      ['headers values must be strings'],
    ],
    [
      'an unknown field',
      { method: 'POST', path: webhooks, body: newHook({ secret: true }) },
      400,
      ['property secret should not exist'],
    ],
    [
      'an unknown field in retry',
      { method: 'POST', path: webhooks, body: newHook({ retry: { attempts: 2, backoffMs: 0, jitter: true } }) },
      400,
      ['jitter should not exist'],
    ],
    ['malformed JSON', { method: 'POST', path: webhooks, raw: '{"name": "new", ' }, 400, ['JSON']],
    [
      'a JSON array',
      { method: 'POST', path: webhooks, raw: JSON.stringify([newHook({})]) },
      400,
      ['body must be a JSON object, not an array'],
    ],
    [
      'a __proto__ key',
      {
        method: 'POST',
        path: webhooks,
        raw: `{"__proto__": {"admin": true}, "name": "new", "method": "GET", "url": "${'http://a.example/'}"}`,
      },
      400,
      ['__proto__'],
    ],
    [
      'a __proto__ key in params',
      {
        method: 'POST',
        path: webhooks,
        raw: '{"name": "new", "method": "GET", "url": "http://a.example/", "params": {"__proto__": "x"}}',
      },
      400,
      ['params', '__proto__'],
    ],
    [
      'a constructor key in params',
      { method: 'POST', path: webhooks, body: newHook({ params: { constructor: 'x' } }) },
      400,
      ['params.constructor is not allowed'],
    ],
    ['a duplicate name', { method: 'POST', path: webhooks, body: validHook() }, 409, [HOOK]],
    // Replace, get, delete
    [
      'PUT with a mismatching name',
      { method: 'PUT', path: put, body: { ...validHook(), name: 'other' } },
      400,
      ['must match the path'],
    ],
    [
      'PUT with a bad url',
      { method: 'PUT', path: put, body: { ...validHook(), url: 'ftp://x.example/' } },
      400,
      ['url must be an absolute http(s) URL'],
    ],
    [
      'PUT with timeoutMs 0',
      { method: 'PUT', path: put, body: { ...validHook(), timeoutMs: 0 } },
      400,
      ['timeoutMs must not be less than 100'],
    ],
    [
      'PUT with an unknown field',
      { method: 'PUT', path: put, body: { ...validHook(), createdAt: '2020-01-01T00:00:00Z' } },
      400,
      ['property createdAt should not exist'],
    ],
    [
      'PUT with a JSON array',
      { method: 'PUT', path: put, raw: '[]' },
      400,
      ['body must be a JSON object, not an array'],
    ],
    [
      'PUT of an unknown webhook',
      { method: 'PUT', path: `${webhooks}/nope`, body: { ...validHook(), name: 'nope' } },
      404,
      ['nope'],
    ],
    ['GET of an unknown webhook', { method: 'GET', path: `${webhooks}/nope` }, 404, ['nope']],
    ['DELETE of an unknown webhook', { method: 'DELETE', path: `${webhooks}/nope` }, 404, ['nope']],
    // The test button
    [
      'test with a bad userId',
      { method: 'POST', path: test, body: { userId: 'a b' } },
      400,
      ['userId must be 1-128 characters'],
    ],
    [
      'test with a bad sessionId',
      { method: 'POST', path: test, body: { userId: 'u1', sessionId: LONG } },
      400,
      ['sessionId must be 1-128 characters'],
    ],
    [
      'test with memory not an object',
      { method: 'POST', path: test, body: { memory: ['x'] } },
      400,
      ['memory must be an object'],
    ],
    [
      'test with a params value that is a number',
      { method: 'POST', path: test, body: { params: { n: 1 } } },
      400,
      ['params values must be strings'],
    ],
    [
      'test with an unknown field',
      { method: 'POST', path: test, body: { dryRun: true } },
      400,
      ['property dryRun should not exist'],
    ],
    [
      'test with a __proto__ key in memory',
      { method: 'POST', path: test, raw: '{"memory": {"__proto__": {"x": 1}}}' },
      400,
      ['memory', '__proto__'],
    ],
    [
      'test with a JSON array',
      { method: 'POST', path: test, raw: '[{"userId": "u1"}]' },
      400,
      ['body must be a JSON object, not an array'],
    ],
    ['test with malformed JSON', { method: 'POST', path: test, raw: '{"userId":' }, 400, ['JSON']],
    ['test of an unknown webhook', { method: 'POST', path: `${webhooks}/nope/test`, body: {} }, 404, ['nope']],
    // Calls
    [
      'a call without webhook',
      { method: 'POST', path: calls, body: { userId: 'u1' } },
      400,
      ['webhook must be a string'],
    ],
    [
      'a call without userId',
      { method: 'POST', path: calls, body: { webhook: HOOK } },
      400,
      ['userId must be a string'],
    ],
    [
      'a call with a 129-character userId',
      { method: 'POST', path: calls, body: { ...validCall(), userId: LONG } },
      400,
      ['userId must be 1-128 characters'],
    ],
    [
      'a call with a userId holding a slash',
      { method: 'POST', path: calls, body: { ...validCall(), userId: 'a/b' } },
      400,
      ['userId must be 1-128 characters'],
    ],
    [
      'a call with a bad sessionId',
      { method: 'POST', path: calls, body: { ...validCall(), sessionId: 'chat #1' } },
      400,
      ['sessionId must be 1-128 characters'],
    ],
    [
      'a call with a params value that is a number',
      { method: 'POST', path: calls, body: { ...validCall(), params: { n: 1 } } },
      400,
      ['params values must be strings'],
    ],
    [
      'a call with memory not an object',
      { method: 'POST', path: calls, body: { ...validCall(), memory: 'x' } },
      400,
      ['memory must be an object'],
    ],
    [
      'a call with user not an object',
      { method: 'POST', path: calls, body: { ...validCall(), user: [1] } },
      400,
      ['user must be an object'],
    ],
    [
      'a call with an empty idempotencyKey',
      { method: 'POST', path: calls, body: { ...validCall(), idempotencyKey: '' } },
      400,
      ['idempotencyKey'],
    ],
    [
      'a call with a __proto__ key in memory',
      { method: 'POST', path: calls, raw: '{"webhook": "hook", "userId": "u1", "memory": {"__proto__": {"x": 1}}}' },
      400,
      ['memory', '__proto__'],
    ],
    [
      'a call with a constructor key in user',
      { method: 'POST', path: calls, body: { ...validCall(), user: { constructor: 1 } } },
      400,
      ['user.constructor is not allowed'],
    ],
    [
      'a call with an unknown field',
      { method: 'POST', path: calls, body: { ...validCall(), priority: 1 } },
      400,
      ['property priority should not exist'],
    ],
    [
      'a call as a JSON array',
      { method: 'POST', path: calls, raw: JSON.stringify([validCall()]) },
      400,
      ['body must be a JSON object, not an array'],
    ],
    ['a call as malformed JSON', { method: 'POST', path: calls, raw: '{"webhook": "hook"' }, 400, ['JSON']],
    [
      'a call to an unknown webhook',
      { method: 'POST', path: calls, body: { ...validCall(), webhook: 'nope' } },
      404,
      ['nope'],
    ],
    // Batches
    [
      'a batch of 1001',
      { method: 'POST', path: `${calls}/batch`, body: { calls: Array.from({ length: 1001 }, validCall) } },
      400,
      ['calls must hold at most 1000 entries'],
    ],
    [
      'an empty batch',
      { method: 'POST', path: `${calls}/batch`, body: { calls: [] } },
      400,
      ['calls must contain at least 1 elements'],
    ],
    ['a batch without calls', { method: 'POST', path: `${calls}/batch`, body: {} }, 400, ['calls must be an array']],
    [
      'a batch with an unknown field',
      { method: 'POST', path: `${calls}/batch`, body: { calls: [validCall()], atomic: true } },
      400,
      ['property atomic should not exist'],
    ],
    [
      'a batch as a JSON array',
      { method: 'POST', path: `${calls}/batch`, raw: JSON.stringify([validCall()]) },
      400,
      ['body must be a JSON object, not an array'],
    ],
    ['a batch as malformed JSON', { method: 'POST', path: `${calls}/batch`, raw: '{"calls": [' }, 400, ['JSON']],
  ])('%s is refused with a message naming the rule', async (_case, c, status, fragments) => {
    const result = await refused(c);
    expect(result.status).toBe(status);
    for (const fragment of fragments) expect(result.message).toContain(fragment);
  });

  /** Every route that writes (POST and PUT), each with a path that would otherwise be served. */
  const writeRoutes = (): Array<[string, string]> => [
    ['POST', webhooks],
    ['PUT', put],
    ['POST', test],
    ['POST', calls],
    ['POST', `${calls}/batch`],
    ['POST', `/v1/bots/${BOT}/turns`],
    ['POST', '/v1/calls/some-call/retry'],
    ['POST', `/v1/bots/${BOT}/signing-secret`],
  ];

  it.each([
    ['null', 'null'],
    ['[]', 'an array'],
    ['[{}]', 'an array'],
    ['0', 'a number'],
    ['-1.5', 'a number'],
    ['"hook"', 'a string'],
    ['true', 'a boolean'],
    ['false', 'a boolean'],
  ])('the body %s is refused by every write route with a 400 naming the body and the rule', async (raw, kind) => {
    const outcomes: Array<[string, number, string]> = [];
    for (const [method, path] of writeRoutes()) {
      const { status, message } = await refused({ method, path, raw });
      outcomes.push([`${method} ${path}`, status, message]);
    }
    expect(outcomes).toEqual(
      writeRoutes().map(([method, path]) => [`${method} ${path}`, 400, `body must be a JSON object, not ${kind}`]),
    );
  });

  it('a batch of entries that are all bad answers each entry and enqueues nothing', async () => {
    const before = await snapshot();
    const reply = await http.post(`${calls}/batch`, {
      calls: [
        1,
        'call',
        null,
        [validCall()],
        { webhook: HOOK },
        { ...validCall(), sessionId: 'a b', extra: 1 },
        { ...validCall(), webhook: 'nope' },
      ],
    });
    expect(reply.status).toBe(202);
    const entries = reply.body.calls as Array<{ error: { status: number; message: string } }>;
    expect(entries.map((e) => e.error.status)).toEqual([400, 400, 400, 400, 400, 400, 404]);
    for (const entry of entries.slice(0, 4)) expect(entry.error.message).toBe('each call must be an object');
    expect(entries[4].error.message).toContain('userId must be a string');
    expect(entries[5].error.message).toContain('sessionId must be 1-128 characters');
    expect(entries[5].error.message).toContain('property extra should not exist');
    expect(entries[6].error.message).toContain('nope');
    expect(await snapshot()).toEqual(before);
    expect(endpoint.requests).toHaveLength(0);
  });

  it('the checks above can see an enqueue: a valid call changes Redis and reads as queued', async () => {
    const before = await snapshot();
    const reply = await http.post(calls, validCall());
    expect(reply.status).toBe(202);
    expect(await snapshot()).not.toEqual(before);
    expect(await waitingCallIds(client)).toContain(reply.body.callId);
    const status = await http.get(`/v1/calls/${reply.body.callId}`);
    expect(status.body).toMatchObject({
      callId: reply.body.callId,
      botId: BOT,
      webhook: HOOK,
      userId: 'u1',
      sessionId: 'default',
      status: 'queued',
      attempts: 0,
    });
  });
});
