import { Webhook } from 'standardwebhooks';
import {
  createWebhook,
  enqueueCall,
  EventCollector,
  HookrunnerStack,
  pollUntil,
  ReceivedRequest,
  startEndpoint,
  startHookrunner,
  subscribeEvents,
  TestEndpoint,
  uniqueId,
} from '../support';

/*
 * What receivers can verify: every outgoing call carries Standard Webhooks headers, checked here
 * with the `standardwebhooks` package (an implementation Hookrunner did not write). A bot's
 * secret is shown once, when it is created; a rotation keeps the old secret signing beside the new
 * one for SECRET_ROTATION_GRACE_HOURS. Workers cache secrets for a few seconds, so a rotation is
 * awaited by polling until a call carries the new signature.
 */

const SECRET_FORMAT = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

/** The three Standard Webhooks headers of a received request. */
function signatureHeaders(req: ReceivedRequest): Record<string, string> {
  const pick = (name: string) => String(req.headers[name] ?? '');
  return {
    'webhook-id': pick('webhook-id'),
    'webhook-timestamp': pick('webhook-timestamp'),
    'webhook-signature': pick('webhook-signature'),
  };
}

/** Whether `secret` verifies the request as received. */
function verifies(secret: string, req: ReceivedRequest): boolean {
  try {
    new Webhook(secret).verify(req.body, signatureHeaders(req));
    return true;
  } catch {
    return false;
  }
}

describe('security: signed calls (Standard Webhooks)', () => {
  let stack: HookrunnerStack;
  let noGrace: HookrunnerStack;
  let endpoint: TestEndpoint;
  let events: EventCollector | undefined;

  beforeAll(async () => {
    [stack, noGrace, endpoint] = await Promise.all([
      startHookrunner({ LOG_LEVEL: 'info' }),
      startHookrunner({ SECRET_ROTATION_GRACE_HOURS: '0', LOG_LEVEL: 'info' }),
      startEndpoint(),
    ]);
    endpoint.reply('/hook', 200, { responses: ['ok'] });
  });

  afterEach(async () => {
    await events?.close();
    events = undefined;
  });

  afterAll(async () => {
    await Promise.all([stack?.stop(), noGrace?.stop(), endpoint?.close()]);
  });

  async function newSecret(on: HookrunnerStack, botId: string): Promise<{ secret: string; body: any }> {
    const reply = await on.api.post(`/v1/bots/${botId}/signing-secret`);
    expect(reply.status).toBe(201);
    expect(reply.body.secret).toMatch(SECRET_FORMAT);
    return { secret: reply.body.secret, body: reply.body };
  }

  /** The request the endpoint received for `callId` (its webhook-id). */
  function requestsOf(callId: string): ReceivedRequest[] {
    return endpoint.requests.filter((r) => r.headers['webhook-id'] === callId);
  }

  async function firstRequestOf(callId: string): Promise<ReceivedRequest> {
    return pollUntil(() => requestsOf(callId)[0], {
      timeoutMs: 10_000,
      message: `the endpoint received no request for call ${callId}`,
    });
  }

  it('creates a secret that is shown once and never returned or stored in clear', async () => {
    const botId = uniqueId('bot');
    const { secret, body } = await newSecret(stack, botId);
    expect(body.previousExpiresAt).toBeUndefined();
    expect(Date.parse(body.createdAt)).toBeGreaterThan(Date.now() - 60_000);

    // No route reads it back.
    const read = await stack.api.get(`/v1/bots/${botId}/signing-secret`);
    expect(read.status).toBe(404);
    expect(read.text).not.toContain(secret);
    await createWebhook(stack.api, botId, { name: 'hook', method: 'POST', url: `${endpoint.url}/hook` });
    events = await subscribeEvents(stack.redis.url, botId);
    const callId = await enqueueCall(stack.api, botId, { webhook: 'hook', userId: 'u1' });
    const event = await events.waitFor(callId);
    for (const path of [`/v1/bots/${botId}/webhooks`, `/v1/calls/${callId}`, `/v1/bots/${botId}/users/u1`]) {
      expect((await stack.api.get(path)).text).not.toContain(secret);
    }
    expect(JSON.stringify(event)).not.toContain(secret);

    // At rest it is sealed: neither the secret nor its key bytes are in Redis.
    const keyPart = secret.slice('whsec_'.length);
    const stored = await stack.client.hgetall(`hookrunner:bot:{${botId}}:signing`);
    expect(Object.keys(stored)).toContain('current');
    expect(JSON.stringify(stored)).not.toContain(keyPart);
    expect(stack.app.output()).not.toContain(keyPart);
  });

  it('signs a POST call: webhook-id is the callId and the signature verifies over the body sent', async () => {
    const botId = uniqueId('bot');
    const { secret } = await newSecret(stack, botId);
    await createWebhook(stack.api, botId, {
      name: 'hook',
      method: 'POST',
      url: `${endpoint.url}/hook`,
      params: { city: '{{memory.city}}', n: '1' },
    });
    const before = Math.floor(Date.now() / 1000);
    const callId = await enqueueCall(stack.api, botId, {
      webhook: 'hook',
      userId: 'u1',
      memory: { city: 'Zürich "quoted"' },
    });
    const req = await firstRequestOf(callId);

    expect(req.method).toBe('POST');
    expect(req.headers['webhook-id']).toBe(callId);
    const timestamp = Number(req.headers['webhook-timestamp']);
    expect(timestamp).toBeGreaterThanOrEqual(before - 1);
    expect(timestamp).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 1);
    expect(req.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(req.body, signatureHeaders(req))).toEqual({ city: 'Zürich "quoted"', n: '1' });

    // The check has teeth: another body, id or timestamp does not verify.
    expect(() => new Webhook(secret).verify(`${req.body} `, signatureHeaders(req))).toThrow();
    expect(() =>
      new Webhook(secret).verify(req.body, { ...signatureHeaders(req), 'webhook-id': `${callId}x` }),
    ).toThrow();
    expect(() =>
      new Webhook(secret).verify(req.body, { ...signatureHeaders(req), 'webhook-timestamp': String(timestamp + 1) }),
    ).toThrow();
  });

  it('signs a GET call over an empty body', async () => {
    const botId = uniqueId('bot');
    const { secret } = await newSecret(stack, botId);
    await createWebhook(stack.api, botId, {
      name: 'hook',
      method: 'GET',
      url: `${endpoint.url}/hook`,
      params: { q: 'x' },
    });
    const callId = await enqueueCall(stack.api, botId, { webhook: 'hook', userId: 'u1' });
    const req = await firstRequestOf(callId);

    expect(req.method).toBe('GET');
    expect(req.body).toBe('');
    expect(req.query.get('q')).toBe('x');
    expect(new Webhook(secret).verify('', signatureHeaders(req))).toBeUndefined();
  });

  it('keeps webhook-id the same on every retry and signs each attempt', async () => {
    const botId = uniqueId('bot');
    const { secret } = await newSecret(stack, botId);
    const path = `/${uniqueId('flaky')}`;
    endpoint.replySequence(path, [
      { status: 500 },
      { status: 503 },
      { status: 200, body: { responses: ['third time'] } },
    ]);
    await createWebhook(stack.api, botId, {
      name: 'hook',
      method: 'POST',
      url: `${endpoint.url}${path}`,
      retry: { attempts: 3, backoffMs: 100 },
    });
    events = await subscribeEvents(stack.redis.url, botId);
    const callId = await enqueueCall(stack.api, botId, { webhook: 'hook', userId: 'u1' });
    const event = await events.waitFor(callId);
    expect(event.type).toBe('call.succeeded');
    expect(event.attempts).toBe(3);

    const attempts = endpoint.requestsTo(path);
    expect(attempts).toHaveLength(3);
    for (const req of attempts) {
      expect(req.headers['webhook-id']).toBe(callId);
      expect(verifies(secret, req)).toBe(true);
    }
  });

  it('gives each bot its own secret', async () => {
    const [botA, botB] = [uniqueId('bot'), uniqueId('bot')];
    const [{ secret: secretA }, { secret: secretB }] = [await newSecret(stack, botA), await newSecret(stack, botB)];
    expect(secretA).not.toBe(secretB);
    await createWebhook(stack.api, botA, { name: 'hook', method: 'POST', url: `${endpoint.url}/hook` });
    const req = await firstRequestOf(await enqueueCall(stack.api, botA, { webhook: 'hook', userId: 'u1' }));
    expect(verifies(secretA, req)).toBe(true);
    expect(verifies(secretB, req)).toBe(false);
  });

  /**
   * Enqueues calls until one is signed with `secret` (workers pick a rotation up within seconds);
   * returns its request.
   */
  async function firstSignedWith(on: HookrunnerStack, botId: string, secret: string): Promise<ReceivedRequest> {
    return pollUntil(
      async () => {
        const req = await firstRequestOf(await enqueueCall(on.api, botId, { webhook: 'hook', userId: 'u1' }));
        return verifies(secret, req) ? req : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 200, message: 'no call was signed with the new secret' },
    );
  }

  it('signs with both the old and the new secret after a rotation, within SECRET_ROTATION_GRACE_HOURS', async () => {
    const botId = uniqueId('bot');
    const { secret: oldSecret } = await newSecret(stack, botId);
    await createWebhook(stack.api, botId, { name: 'hook', method: 'POST', url: `${endpoint.url}/hook` });
    expect(
      verifies(oldSecret, await firstRequestOf(await enqueueCall(stack.api, botId, { webhook: 'hook', userId: 'u1' }))),
    ).toBe(true);

    const { secret: newSecretValue, body } = await newSecret(stack, botId);
    expect(newSecretValue).not.toBe(oldSecret);
    // The default grace is 24 hours.
    expect(Date.parse(body.previousExpiresAt) - Date.parse(body.createdAt)).toBe(24 * 3600 * 1000);

    const req = await firstSignedWith(stack, botId, newSecretValue);
    expect(verifies(oldSecret, req)).toBe(true);
    expect(String(req.headers['webhook-signature']).split(' ')).toHaveLength(2);
  });

  it('signs with the new secret only when SECRET_ROTATION_GRACE_HOURS=0', async () => {
    const botId = uniqueId('bot');
    const { secret: oldSecret } = await newSecret(noGrace, botId);
    await createWebhook(noGrace.api, botId, { name: 'hook', method: 'POST', url: `${endpoint.url}/hook` });
    expect(
      verifies(
        oldSecret,
        await firstRequestOf(await enqueueCall(noGrace.api, botId, { webhook: 'hook', userId: 'u1' })),
      ),
    ).toBe(true);

    const { secret: newSecretValue } = await newSecret(noGrace, botId);
    const req = await firstSignedWith(noGrace, botId, newSecretValue);
    expect(verifies(oldSecret, req)).toBe(false);
    expect(String(req.headers['webhook-signature']).split(' ')).toHaveLength(1);
  });
});
