import { hostname } from 'node:os';
import { blockedRange } from '@hookrunner/security';
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import {
  createWebhook,
  enqueueCall,
  EventCollector,
  HookrunnerStack,
  startEndpoint,
  startHookrunner,
  subscribeEvents,
  TestEndpoint,
  uniqueId,
} from '../support';

/*
 * Where webhooks may go, through the whole pipeline. With OUTBOUND_ALLOW_CIDRS unset a literal
 * internal address is refused when the definition is saved; a name is accepted then and checked
 * on the address actually dialled, so a name that resolves to loopback fails at connect time with
 * blocked_url, once, and the endpoint behind it never sees a request. Opening 127.0.0.1/32 lets
 * the same kind of call through. Redirects are never followed.
 */

/** Literal internal addresses in every spelling the issue lists, and the names always refused. */
const BLOCKED_AT_SAVE = [
  'http://127.0.0.1/hook',
  'http://10.0.0.1/hook',
  'http://169.254.169.254/latest/meta-data/',
  'http://[::1]/hook',
  'http://[::ffff:127.0.0.1]/hook',
  'http://2130706433/hook',
  'http://0x7f000001/hook',
  'http://100.64.0.1/hook',
  'http://198.18.0.1/hook',
  'http://[64:ff9b::7f00:1]/hook',
  'http://[2002:7f00:1::]/hook',
  'http://metadata.google.internal/computeMetadata/v1/',
  'http://localhost/hook',
  'http://0.0.0.0/hook',
  'http://224.0.0.1/hook',
  'http://192.168.1.1/hook',
  'http://172.16.0.1/hook',
  'http://[fd00::1]/hook',
  'http://[fe80::1]/hook',
  'http://[::ffff:a9fe:a9fe]/hook',
  'https://10.0.0.1:8443/hook',
  'http://0177.0.0.1/hook',
  'http://127.1/hook',
  'http://127.0.0.1./hook',
];

/** Names that always lead inside, whatever DNS says (the "metadata.google.internal-style names"). */
const BLOCKED_NAMES = new Set(['localhost', 'metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data']);

/**
 * A name /etc/hosts maps to loopback that is not refused by name (`localhost` is): the case of a
 * public-looking name that leads inside. Undefined when the machine has none.
 */
function loopbackNameFromHosts(): string | undefined {
  let text = '';
  try {
    text = readFileSync('/etc/hosts', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
    if (!address || !(address.startsWith('127.') || address === '::1')) continue;
    const name = names.find(
      (n) =>
        /^[a-z0-9][a-z0-9.-]*$/i.test(n) &&
        isIP(n) === 0 &&
        !BLOCKED_NAMES.has(n.toLowerCase()) &&
        !/\.(localhost|internal)$/i.test(n),
    );
    if (name) return name;
  }
  return undefined;
}

/** Every machine of this kind maps its own host name in /etc/hosts; that is the fallback. */
const INSIDE_NAME = loopbackNameFromHosts() ?? hostname();

describe('security: outbound calls (SSRF)', () => {
  let closed: HookrunnerStack;
  let open: HookrunnerStack;
  let endpoint: TestEndpoint;
  let events: EventCollector | undefined;

  beforeAll(async () => {
    [closed, open, endpoint] = await Promise.all([
      startHookrunner({ OUTBOUND_ALLOW_CIDRS: '', LOG_LEVEL: 'info' }),
      startHookrunner({ OUTBOUND_ALLOW_CIDRS: '127.0.0.1/32', LOG_LEVEL: 'info' }),
      startEndpoint(),
    ]);
  });

  afterEach(async () => {
    await events?.close();
    events = undefined;
  });

  afterAll(async () => {
    await Promise.all([closed?.stop(), open?.stop(), endpoint?.close()]);
  });

  it('says at start which private ranges webhooks may reach', () => {
    expect(closed.app.output()).toContain('webhooks may reach public addresses only');
    expect(open.app.output()).toMatch(/webhooks may reach these private ranges: 127\.0\.0\.1\/32/);
  });

  it('answers 400 with a message to a definition whose URL is a literal internal address; stores nothing', async () => {
    const botId = uniqueId('bot');
    for (const url of BLOCKED_AT_SAVE) {
      const reply = await closed.api.post(`/v1/bots/${botId}/webhooks`, { name: uniqueId('hook'), method: 'GET', url });
      const message = [reply.body?.message ?? []].flat().join(' ');
      expect({ url, status: reply.status, hasMessage: message.length > 0 }).toEqual({
        url,
        status: 400,
        hasMessage: true,
      });
    }
    const listed = await closed.api.get(`/v1/bots/${botId}/webhooks`);
    expect(listed.body.webhooks).toEqual([]);
  });

  // Integer, octal and short IPv4 spellings name a loopback address as surely as the dotted quad does.
  it('says the address is blocked, for every spelling of it', async () => {
    const botId = uniqueId('bot');
    const wrong: string[] = [];
    for (const url of BLOCKED_AT_SAVE.filter((u) => !u.includes('127.0.0.1.'))) {
      const reply = await closed.api.post(`/v1/bots/${botId}/webhooks`, { name: uniqueId('hook'), method: 'GET', url });
      if (reply.body?.error !== 'blocked_url' || !/blocked|internal name/.test(String(reply.body?.message)))
        wrong.push(`${url} → ${reply.text}`);
    }
    expect(wrong).toEqual([]);
  });

  it('refuses a blocked address on replace too, keeping the definition as it was', async () => {
    const botId = uniqueId('bot');
    const created = await createWebhook(closed.api, botId, {
      name: 'hook',
      method: 'GET',
      url: 'http://example.com/hook',
    });
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[::ffff:10.0.0.1]/hook']) {
      const reply = await closed.api.put(`/v1/bots/${botId}/webhooks/hook`, { method: 'GET', url });
      expect({ url, status: reply.status }).toEqual({ url, status: 400 });
    }
    expect((await closed.api.get(`/v1/bots/${botId}/webhooks/hook`)).body.url).toBe(created.url);
  });

  it(`accepts a name resolving inside (${INSIDE_NAME}) but blocks it once at connect; endpoint untouched`, async () => {
    const name = INSIDE_NAME;
    // Only meaningful if the name really leads inside: loopback, or a private address of this host.
    const addresses = await lookup(name, { all: true });
    expect(addresses.length).toBeGreaterThan(0);
    for (const { address } of addresses) expect(blockedRange(address, [])).toBeDefined();

    const botId = uniqueId('bot');
    const path = `/${uniqueId('inside')}`;
    endpoint.reply(path, 200, { responses: ['must never be reached'] });
    const url = `http://${name}:${endpoint.port}${path}`;
    // Three attempts allowed with a short backoff: a retry would show within the test.
    await createWebhook(closed.api, botId, {
      name: 'hook',
      method: 'POST',
      url,
      retry: { attempts: 3, backoffMs: 100 },
    });

    events = await subscribeEvents(closed.redis.url, botId);
    const callId = await enqueueCall(closed.api, botId, { webhook: 'hook', userId: 'u1' });
    const event = await events.waitFor(callId);
    expect(event.type).toBe('call.failed');
    expect(event.error?.type).toBe('blocked_url');
    expect(event.attempts).toBe(1);
    const call = await closed.api.get(`/v1/calls/${callId}`);
    expect(call.body.status).toBe('failed');
    expect(call.body.attemptLog).toHaveLength(1);
    expect(call.body.attemptLog[0].error?.type).toBe('blocked_url');

    // The dry run through the API is held to the same rule.
    const test = await closed.api.post(`/v1/bots/${botId}/webhooks/hook/test`, {});
    expect(test.status).toBeLessThan(500);
    expect(test.body.valid).toBe(false);
    expect(endpoint.requestsTo(path)).toEqual([]);
  });

  it('blocks literal addresses at connect time too: one saved while 127.0.0.1 was open fails once closed', async () => {
    const botId = uniqueId('bot');
    const path = `/${uniqueId('was-open')}`;
    endpoint.reply(path, 200, { responses: ['must never be reached'] });
    await createWebhook(open.api, botId, {
      name: 'hook',
      method: 'GET',
      url: `${endpoint.url}${path}`,
      retry: { attempts: 3, backoffMs: 100 },
    });
    // The stored definition moves to the deployment whose policy is closed, as after an operator removes the range.
    const key = `hookrunner:bot:{${botId}}:webhooks`;
    await closed.client.hset(key, 'hook', (await open.client.hget(key, 'hook'))!);

    events = await subscribeEvents(closed.redis.url, botId);
    const callId = await enqueueCall(closed.api, botId, { webhook: 'hook', userId: 'u1' });
    const event = await events.waitFor(callId);
    expect(event.type).toBe('call.failed');
    expect(event.error?.type).toBe('blocked_url');
    expect(event.attempts).toBe(1);
    expect(endpoint.requestsTo(path)).toEqual([]);
  });

  it('lets the same call to 127.0.0.1 through when OUTBOUND_ALLOW_CIDRS=127.0.0.1/32, only that range', async () => {
    const botId = uniqueId('bot');
    const path = `/${uniqueId('allowed')}`;
    endpoint.reply(path, 200, { responses: ['reached'] });
    await createWebhook(open.api, botId, {
      name: 'hook',
      method: 'POST',
      url: `${endpoint.url}${path}`,
      retry: { attempts: 1, backoffMs: 0 },
    });

    events = await subscribeEvents(open.redis.url, botId);
    const callId = await enqueueCall(open.api, botId, { webhook: 'hook', userId: 'u1' });
    const event = await events.waitFor(callId);
    expect(event.type).toBe('call.succeeded');
    expect(event.responses).toEqual(['reached']);
    expect(endpoint.requestsTo(path)).toHaveLength(1);

    // The rest stays closed.
    for (const url of [
      'http://10.0.0.1/hook',
      'http://169.254.169.254/',
      'http://[::1]/hook',
      'http://127.0.0.2/hook',
    ]) {
      const reply = await open.api.post(`/v1/bots/${botId}/webhooks`, { name: uniqueId('hook'), method: 'GET', url });
      expect({ url, status: reply.status }).toEqual({ url, status: 400 });
    }
  });

  it('follows no redirect: a 301 or 302 fails the call with http_status; the target is never requested', async () => {
    const botId = uniqueId('bot');
    const target = `/${uniqueId('target')}`;
    endpoint.reply(target, 200, { responses: ['followed'] });
    events = await subscribeEvents(open.redis.url, botId);
    for (const status of [301, 302]) {
      const from = `/${uniqueId('moved')}`;
      endpoint.reply(from, status, {}, { headers: { location: `${endpoint.url}${target}` } });
      const hook = `hook-${status}`;
      await createWebhook(open.api, botId, {
        name: hook,
        method: 'GET',
        url: `${endpoint.url}${from}`,
        retry: { attempts: 1, backoffMs: 0 },
      });
      const callId = await enqueueCall(open.api, botId, { webhook: hook, userId: 'u1' });
      const event = await events.waitFor(callId);
      expect(event.type).toBe('call.failed');
      expect(event.error).toMatchObject({ type: 'http_status', httpStatus: status });
      expect(endpoint.requestsTo(from)).toHaveLength(1);
    }
    expect(endpoint.requestsTo(target)).toEqual([]);
  });
});
