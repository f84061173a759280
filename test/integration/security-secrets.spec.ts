import Redis from 'ioredis';
import { CallErrorType, type WebhookCallJob } from '@hookrunner/contracts';
import {
  ApiClient,
  AppProcess,
  createWebhook,
  enqueueCall,
  EventCollector,
  callJobKey,
  pendingJobs,
  pollUntil,
  SplitDeployment,
  startSplitDeployment,
  streamEntriesFor,
  TestEndpoint,
  uniqueId,
} from '../support';

/*
 * Secrets and bad input. Definition header values may be credentials: the endpoint gets them in
 * clear, but no API response, no Redis value (BullMQ keeps job data in clear) and no log line
 * ever shows them. The roles run as separate processes started one after the other, so the job
 * is read from Redis while it waits for a worker and its result while it waits for the consumer.
 * Then the body size limit and prototype-pollution keys, at enqueue and in webhook replies.
 */

const SECRET_HEADERS = { Authorization: 'Bearer s3cr3t-value', 'X-Api-Key': 'k3y-value' };
const PLAINTEXTS = ['s3cr3t-value', 'k3y-value'];
/** The values as a careless implementation might store them: base64 is no encryption. */
const ENCODED = PLAINTEXTS.flatMap((p) => [
  Buffer.from(p).toString('base64').replace(/=+$/, ''),
  Buffer.from(p).toString('hex'),
]);
const MAX_BODY_BYTES = 2048;

/** Every key in Redis with its value as text, read with the command its type needs. */
async function dumpRedis(client: Redis): Promise<Map<string, string>> {
  const dump = new Map<string, string>();
  for (const key of await client.keys('*')) {
    const type = await client.type(key);
    let value: unknown;
    switch (type) {
      case 'string':
        value = await client.get(key);
        break;
      case 'hash':
        value = await client.hgetall(key);
        break;
      case 'list':
        value = await client.lrange(key, 0, -1);
        break;
      case 'set':
        value = await client.smembers(key);
        break;
      case 'zset':
        value = await client.zrange(key, 0, -1, 'WITHSCORES');
        break;
      case 'stream':
        value = await client.xrange(key, '-', '+');
        break;
      case 'none':
        continue; // expired between KEYS and TYPE
      default:
        throw new Error(`key ${key} has type ${type}, which this scan cannot read`);
    }
    dump.set(key, JSON.stringify(value));
  }
  return dump;
}

/** The keys whose name or value holds a plaintext header value or an encoding of one. */
function leaks(dump: Map<string, string>): string[] {
  const needles = [...PLAINTEXTS, ...ENCODED];
  return [...dump]
    .filter(([key, value]) => needles.some((n) => key.includes(n) || value.includes(n)))
    .map(([key]) => key);
}

/** An enqueue body for webhook `hook`, written out as JSON text so it can hold a `__proto__` key. */
function callBody(extra: string): string {
  return `{"webhook":"hook","userId":"u1",${extra}}`;
}

function expectNoPlaintext(text: string): void {
  for (const plain of PLAINTEXTS) expect(text).not.toContain(plain);
}

describe('security: secrets at rest and bad input', () => {
  let deployment: SplitDeployment;
  let client: Redis;
  let endpoint: TestEndpoint;
  let apiApp: AppProcess;
  let worker: AppProcess | undefined;
  let results: AppProcess | undefined;
  let http: ApiClient;
  let events: EventCollector | undefined;

  /** Starts whichever of the worker and the results consumer is not running yet. */
  async function startWorker(): Promise<void> {
    worker ??= await deployment.start('worker');
  }
  async function startResults(): Promise<void> {
    results ??= await deployment.start('results');
  }

  /** Call jobs in Redis (waiting, active, done or failed) that belong to `botId`. */
  async function callJobsOf(botId: string): Promise<string[]> {
    const found: string[] = [];
    for (const key of await client.keys('{hookrunner*}:calls:*')) {
      if ((await client.type(key)) !== 'hash') continue;
      const data = await client.hget(key, 'data');
      if (data && (JSON.parse(data) as WebhookCallJob).botId === botId) found.push(key);
    }
    return found;
  }

  beforeAll(async () => {
    // The worker and the results consumer start when a test first needs them.
    deployment = await startSplitDeployment({
      env: { LOG_LEVEL: 'debug' },
      api: [{ MAX_BODY_BYTES: String(MAX_BODY_BYTES) }],
      worker: [],
      results: [],
    });
    ({ client, endpoint, api: http } = deployment);
    [apiApp] = deployment.apps.api;
    endpoint.reply('/hook', 200, { responses: ['ok'] });
  });

  afterEach(async () => {
    await events?.close();
    events = undefined;
  });

  afterAll(async () => {
    await deployment?.stop();
  });

  it('sends header values in clear but never shows them in a reply or stores them in clear in Redis', async () => {
    const botId = uniqueId('bot');
    const masked = { authorization: '***', 'x-api-key': '***' };

    const created = await http.post(`/v1/bots/${botId}/webhooks`, {
      name: 'hook',
      method: 'POST',
      url: `${endpoint.url}/hook`,
      headers: SECRET_HEADERS,
    });
    expect(created.status).toBe(201);
    expect(created.body.headers).toEqual(masked);
    expectNoPlaintext(created.text);
    const replaced = await http.put(`/v1/bots/${botId}/webhooks/hook`, {
      method: 'POST',
      url: `${endpoint.url}/hook`,
      headers: SECRET_HEADERS,
      retry: { attempts: 1, backoffMs: 0 },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.headers).toEqual(masked);
    for (const path of [`/v1/bots/${botId}/webhooks/hook`, `/v1/bots/${botId}/webhooks`]) {
      const reply = await http.get(path);
      expect(reply.status).toBe(200);
      expectNoPlaintext(reply.text);
    }
    expect((await http.get(`/v1/bots/${botId}/webhooks/hook`)).body.headers).toEqual(masked);

    // A job waiting for a worker: its data is in Redis, sealed.
    const callId = await enqueueCall(http, botId, { webhook: 'hook', userId: 'u1' });
    let dump = await dumpRedis(client);
    expect(dump.get((await callJobKey(client, callId))!)).toContain('"data"'); // the scan did read the job
    expect(dump.get(`hookrunner:bot:{${botId}}:webhooks`)).toContain('authorization'); // and the definition
    expect(leaks(dump)).toEqual([]);

    // The worker opens them for the endpoint only; the result then waits for the consumer.
    await startWorker();
    const req = await pollUntil(() => endpoint.requests.find((r) => r.headers['idempotency-key'] === callId), {
      message: `the endpoint received no request for call ${callId}`,
    });
    expect(req.headers.authorization).toBe(SECRET_HEADERS.Authorization);
    expect(req.headers['x-api-key']).toBe(SECRET_HEADERS['X-Api-Key']);
    await pollUntil(async () => (await pendingJobs(client, 'results')) > 0, {
      message: 'no result job waited for the consumer',
    });
    dump = await dumpRedis(client);
    expect(
      [...dump.keys()].some((key) => /^\{hookrunner(:\d+)?\}:results:/.test(key) && dump.get(key)!.includes(callId)),
    ).toBe(true);
    expect(leaks(dump)).toEqual([]);

    // Finished: the event, the stream, the call and the dry run show no value either.
    events = await deployment.subscribe(botId);
    await startResults();
    await pollUntil(async () => (await http.get(`/v1/calls/${callId}`)).body?.status === 'succeeded', {
      message: `call ${callId} did not succeed`,
    });
    const view = await http.get(`/v1/calls/${callId}`);
    expectNoPlaintext(view.text);
    expectNoPlaintext(JSON.stringify(await streamEntriesFor(client, callId)));
    const dryRun = await http.post(`/v1/bots/${botId}/webhooks/hook/test`, {});
    expect(dryRun.status).toBe(200);
    expectNoPlaintext(dryRun.text);
    expect(dryRun.body.request.headers).toMatchObject(masked);
    expect(endpoint.requestsTo('/hook').every((r) => r.headers.authorization === SECRET_HEADERS.Authorization)).toBe(
      true,
    );
    expect(leaks(await dumpRedis(client))).toEqual([]);
  });

  it('keeps them out of a failed call too: its kept job, its record and the dead-letter list', async () => {
    await Promise.all([startWorker(), startResults()]);
    const botId = uniqueId('bot');
    endpoint.reply('/down', 500, { error: 'down' });
    await createWebhook(http, botId, {
      name: 'hook',
      method: 'GET',
      url: `${endpoint.url}/down`,
      headers: SECRET_HEADERS,
      retry: { attempts: 2, backoffMs: 50 },
    });
    events = await deployment.subscribe(botId);
    const callId = await enqueueCall(http, botId, { webhook: 'hook', userId: 'u1' });
    expect((await events.waitFor(callId)).type).toBe('call.failed');
    expectNoPlaintext(JSON.stringify(events.forCall(callId)));

    const failed = await pollUntil(
      async () => {
        const reply = await http.get(`/v1/bots/${botId}/calls?status=failed`);
        return reply.body?.calls?.length > 0 ? reply : undefined;
      },
      { message: 'the failed call was not listed' },
    );
    expectNoPlaintext(failed.text);
    expectNoPlaintext((await http.get(`/v1/calls/${callId}`)).text);
    const dump = await dumpRedis(client);
    expect(dump.has((await callJobKey(client, callId)) ?? 'none')).toBe(true); // the failed job is kept, data and all
    expect(leaks(dump)).toEqual([]);
  });

  it(`answers 413 to a body over MAX_BODY_BYTES=${MAX_BODY_BYTES} and enqueues or stores nothing`, async () => {
    const botId = uniqueId('bot');
    await createWebhook(http, botId, { name: 'hook', method: 'POST', url: `${endpoint.url}/hook` });

    const big = { webhook: 'hook', userId: 'u1', memory: { blob: 'x'.repeat(3 * 1024) } };
    const reply = await http.post(`/v1/bots/${botId}/calls`, big);
    expect(reply.status).toBe(413);
    const bigDefinition = await http.post(`/v1/bots/${botId}/webhooks`, {
      name: 'big',
      method: 'POST',
      url: `${endpoint.url}/hook`,
      params: { blob: 'x'.repeat(3 * 1024) },
    });
    expect(bigDefinition.status).toBe(413);
    expect(await client.hexists(`hookrunner:bot:{${botId}}:webhooks`, 'big')).toBe(0);
    expect(await callJobsOf(botId)).toEqual([]);

    // Under the limit the same call is accepted: it was the size that was refused.
    const small = await http.post(`/v1/bots/${botId}/calls`, { ...big, memory: { blob: 'x'.repeat(1024) } });
    expect(small.status).toBe(202);
    expect((await http.get(`/v1/calls/${small.body.callId}`)).body).toMatchObject({ botId, webhook: 'hook' });
  });

  it('answers 400 to __proto__, constructor and prototype keys in memory, user and params; enqueues none', async () => {
    await Promise.all([startWorker(), startResults()]);
    const botId = uniqueId('bot');
    await createWebhook(http, botId, { name: 'hook', method: 'POST', url: `${endpoint.url}/hook` });
    const bodies = [
      callBody('"memory":{"__proto__":{"polluted":"yes"}}'),
      callBody('"memory":{"constructor":{"prototype":{"polluted":"yes"}}}'),
      callBody('"memory":{"prototype":{"polluted":"yes"}}'),
      callBody('"user":{"__proto__":{"polluted":"yes"}}'),
      callBody('"user":{"constructor":{"prototype":{"polluted":"yes"}}}'),
      callBody('"params":{"__proto__":"yes"}'),
      callBody('"params":{"constructor":"yes"}'),
      callBody('"params":{"prototype":"yes"}'),
      callBody('"__proto__":{"polluted":"yes"}'),
    ];
    for (const raw of bodies) {
      const reply = await http.post(`/v1/bots/${botId}/calls`, undefined, { raw });
      expect({ raw, status: reply.status }).toEqual({ raw, status: 400 });
    }
    for (const params of ['{"__proto__":"yes"}', '{"constructor":"yes"}', '{"prototype":"yes"}']) {
      const raw = `{"name":"bad","method":"POST","url":"${endpoint.url}/hook","params":${params}}`;
      const reply = await http.post(`/v1/bots/${botId}/webhooks`, undefined, { raw });
      expect({ raw, status: reply.status }).toEqual({ raw, status: 400 });
    }
    expect(await callJobsOf(botId)).toEqual([]);
    expect(await client.hexists(`hookrunner:bot:{${botId}}:webhooks`, 'bad')).toBe(0);
  });

  it('fails a reply holding such a key in memory or user_attributes as invalid_response; no pollution', async () => {
    await Promise.all([startWorker(), startResults()]);
    const botId = uniqueId('bot');
    const replies = [
      '{"responses":["hi"],"memory":{"__proto__":{"polluted":"yes"}}}',
      '{"memory":{"constructor":{"prototype":{"polluted":"yes"}}}}',
      '{"memory":{"prototype":{"polluted":"yes"}}}',
      '{"user_attributes":{"__proto__":{"polluted":"yes"}}}',
      '{"user_attributes":{"constructor":{"prototype":{"polluted":"yes"}}}}',
    ];
    events = await deployment.subscribe(botId);
    for (const [i, body] of replies.entries()) {
      const path = `/${uniqueId('poison')}`;
      endpoint.reply(path, 200, body);
      await createWebhook(http, botId, {
        name: `poison-${i}`,
        method: 'POST',
        url: `${endpoint.url}${path}`,
        retry: { attempts: 1, backoffMs: 0 },
      });
      const callId = await enqueueCall(http, botId, { webhook: `poison-${i}`, userId: 'u1' });
      const event = await events.waitFor(callId);
      expect({ body, type: event.type, error: event.error?.type }).toEqual({
        body,
        type: 'call.failed',
        error: 'invalid_response',
      });
    }
    // Nothing of the rejected replies was stored.
    expect((await http.get(`/v1/bots/${botId}/users/u1/sessions/default`)).body).toEqual({ memory: {} });
    expect((await http.get(`/v1/bots/${botId}/users/u1`)).body).toEqual({ attributes: {} });

    // A later call behaves normally: `polluted` is nowhere to be found, in the request or the reply.
    const path = `/${uniqueId('clean')}`;
    endpoint.reply(path, 200, {
      responses: ['memory=[{{memory.polluted}}] user=[{{user.polluted}}]'],
      memory: { ok: 1 },
    });
    await createWebhook(http, botId, {
      name: 'clean',
      method: 'POST',
      url: `${endpoint.url}${path}`,
      params: { m: '{{memory.polluted}}', u: '{{user.polluted}}' },
      retry: { attempts: 1, backoffMs: 0 },
    });
    const callId = await enqueueCall(http, botId, { webhook: 'clean', userId: 'u1', memory: { x: 1 } });
    const event = await events.waitFor(callId);
    expect(event.type).toBe('call.succeeded');
    expect(event.responses).toEqual(['memory=[] user=[]']);
    expect(event.memory).toEqual({ ok: 1 });
    expect(event.userAttributes).toEqual({});
    expect(JSON.parse(endpoint.requestsTo(path)[0].body)).toEqual({ m: '', u: '' });
    expect((await http.get(`/v1/bots/${botId}/users/u1/sessions/default`)).body).toEqual({ memory: { ok: 1 } });
  });

  it('rejects or drops such keys nested deeper in a reply, as the API does at enqueue', async () => {
    await Promise.all([startWorker(), startResults()]);
    const botId = uniqueId('bot');
    // The API refuses these at any depth; a reply is held to the same rule.
    const nested = callBody('"memory":{"a":{"__proto__":{"polluted":"yes"}}}');
    expect((await http.post(`/v1/bots/${botId}/calls`, undefined, { raw: nested })).status).toBe(400);

    const replies = [
      '{"memory":{"a":{"__proto__":{"polluted":"yes"}}}}',
      '{"memory":{"b":{"constructor":{"prototype":{"polluted":"yes"}}}}}',
      '{"user_attributes":{"c":[{"__proto__":{"polluted":"yes"}}]}}',
    ];
    events = await deployment.subscribe(botId);
    const kept: string[] = [];
    for (const [i, body] of replies.entries()) {
      const path = `/${uniqueId('nested')}`;
      endpoint.reply(path, 200, body);
      await createWebhook(http, botId, {
        name: `nested-${i}`,
        method: 'POST',
        url: `${endpoint.url}${path}`,
        retry: { attempts: 1, backoffMs: 0 },
      });
      const callId = await enqueueCall(http, botId, { webhook: `nested-${i}`, userId: `u${i}` });
      const event = await events.waitFor(callId);
      if (event.error?.type === CallErrorType.InvalidResponse) continue; // rejected
      const stored = [
        (await http.get(`/v1/bots/${botId}/users/u${i}/sessions/default`)).text,
        (await http.get(`/v1/bots/${botId}/users/u${i}`)).text,
      ];
      // Or dropped: neither the event bot engines receive nor the stored state may carry the key.
      if ([JSON.stringify(event), ...stored].some((text) => /"(__proto__|constructor|prototype)"/.test(text)))
        kept.push(`${body} → ${JSON.stringify(event.changes)}`);
    }
    expect(kept).toEqual([]);
  });

  // Last: it stops the processes, so that every line they wrote has been read.
  it('never writes a header value to the output of any process', async () => {
    await Promise.all([startWorker(), startResults()]);
    const apps = [apiApp, worker!, results!];
    await Promise.all(apps.map((app) => app.stop()));
    for (const app of apps) {
      const output = app.output();
      for (const needle of [...PLAINTEXTS, ...ENCODED])
        expect({ role: app.role, needle, leaked: output.includes(needle) }).toEqual({
          role: app.role,
          needle,
          leaked: false,
        });
    }
  });
});
