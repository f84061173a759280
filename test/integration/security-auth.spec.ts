import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Redis from 'ioredis';
import { reapOnExit } from '../support/cleanup';
import {
  AppProcess,
  EventCollector,
  freePort,
  pollUntil,
  spawnApp,
  startApp,
  startEndpoint,
  startRedis,
  subscribeEvents,
  TestEndpoint,
  TestRedis,
  uniqueId,
} from '../support';

/*
 * Who may call the API: every /v1 route wants `Authorization: Bearer <key>` (401 without one), a
 * key restricted to some bots gets 403 for the others — also on routes that find the bot in a
 * stored call — and the health, readiness and metrics routes stay open. The key values never
 * reach the process output. Without keys the API refuses to start, AUTH_DISABLED=true says it is
 * open, and the one-process mode generates a key on first run and prints it that once.
 */

const API_KEYS = 'k-all,k-one:bot1|bot2';
const WRONG_KEY = 'wrong-key-7f3a9c';

interface Reply {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/** One request to the API with whatever Authorization header the test chooses (none by default). */
async function send(
  baseUrl: string,
  method: string,
  path: string,
  opts: { key?: string; authorization?: string; body?: unknown } = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  const authorization = opts.authorization ?? (opts.key === undefined ? undefined : `Bearer ${opts.key}`);
  if (authorization !== undefined) headers.authorization = authorization;
  let payload: string | undefined;
  if (opts.body !== undefined) {
    payload = JSON.stringify(opts.body);
    headers['content-type'] = 'application/json';
  }
  const res = await fetch(`${baseUrl}${path}`, { method, headers, body: payload, signal: AbortSignal.timeout(15_000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** The /v1 routes a process says it mapped at start (`Mapped {/v1/..., GET} route`). */
function mappedRoutes(output: string): { method: string; path: string }[] {
  const routes = [...output.matchAll(/Mapped \{(\/v1\/[^,}]*), ([A-Z]+)\} route/g)].map(([, path, method]) => ({
    method,
    path,
  }));
  return routes.filter((r, i) => routes.findIndex((o) => o.method === r.method && o.path === r.path) === i);
}

/** A route template with its parameters filled in: `:botId` becomes `botId`, every other one a placeholder. */
function fill(path: string, botId: string): string {
  return path.replace(/:([A-Za-z]+)/g, (_m, name: string) =>
    name === 'botId' ? botId : name === 'callId' ? randomUUID() : `${name}-x`,
  );
}

/** A body for routes that take one, so a 401/403 cannot be blamed on a missing body. */
function bodyFor(method: string): unknown {
  return method === 'POST' || method === 'PUT'
    ? { webhook: 'w', userId: 'u1', name: 'w', method: 'GET', url: 'http://example.com/' }
    : undefined;
}

describe('security: API keys', () => {
  let redis: TestRedis;
  let endpoint: TestEndpoint;
  let app: AppProcess;
  let baseUrl: string;
  let events: EventCollector | undefined;
  let client: Redis;

  beforeAll(async () => {
    [redis, endpoint] = await Promise.all([startRedis(), startEndpoint()]);
    // debug: the route list is read from the start-up log, and more output means more places a key could leak.
    app = await startApp('hookrunner', { REDIS_URL: redis.url, API_KEYS, AUTH_DISABLED: '', LOG_LEVEL: 'debug' });
    baseUrl = `http://127.0.0.1:${app.port}`;
    client = redis.client();
  });

  afterEach(async () => {
    await events?.close();
    events = undefined;
  });

  afterAll(async () => {
    await app?.stop();
    await Promise.all([redis?.stop(), endpoint?.close()]);
  });

  it('answers 401 on every /v1 route without Authorization, and changes nothing', async () => {
    const routes = mappedRoutes(app.output());
    // The routes known when this was written must be among those found, or the parsing broke.
    const found = routes.map((r) => `${r.method} ${r.path}`);
    expect(found).toEqual(
      expect.arrayContaining([
        'POST /v1/bots/:botId/webhooks',
        'GET /v1/bots/:botId/webhooks',
        'GET /v1/bots/:botId/webhooks/:name',
        'PUT /v1/bots/:botId/webhooks/:name',
        'DELETE /v1/bots/:botId/webhooks/:name',
        'POST /v1/bots/:botId/webhooks/:name/test',
        'POST /v1/bots/:botId/calls',
        'POST /v1/bots/:botId/calls/batch',
        'GET /v1/calls/:callId',
        'GET /v1/bots/:botId/calls',
        'POST /v1/calls/:callId/retry',
        'GET /v1/bots/:botId/users/:userId',
        'GET /v1/bots/:botId/users/:userId/sessions/:sessionId',
        'POST /v1/bots/:botId/signing-secret',
      ]),
    );

    for (const route of routes) {
      const path = fill(route.path, 'bot1');
      const reply = await send(baseUrl, route.method, path, { body: bodyFor(route.method) });
      expect({ route: `${route.method} ${path}`, status: reply.status }).toEqual({
        route: `${route.method} ${path}`,
        status: 401,
      });
    }

    // The refused create and secret rotation left nothing behind.
    expect(await client.exists('hookrunner:bot:{bot1}:webhooks', 'hookrunner:bot:{bot1}:signing')).toBe(0);
    const jobKeys = (await client.keys('{hookrunner*}:calls:*')).filter((key) =>
      /:[0-9a-f]{8}-[0-9a-f-]{27}$/.test(key),
    );
    expect(jobKeys).toEqual([]);
  });

  it('cannot be bypassed by spelling the /v1 prefix with percent-escapes', async () => {
    // The router decodes `%76` to `v` and `%31` to `1`; whatever reaches a /v1 handler must pass the key check.
    // Bots of their own: a request that slips through may create data the other tests would trip on.
    const [open, forbidden] = ['bot-escaped', 'bot4'];
    const spellings = (path: string) =>
      ['/%761/', '/v%31/', '/%76%31/'].map((prefix) => path.replace(/^\/v1\//, prefix));
    const reached: string[] = [];
    for (const route of mappedRoutes(app.output())) {
      for (const path of spellings(fill(route.path, open))) {
        const reply = await send(baseUrl, route.method, path, { body: bodyFor(route.method) });
        if (reply.status !== 401 && reply.status !== 404) reached.push(`${route.method} ${path} → ${reply.status}`);
      }
      if (!route.path.includes(':botId')) continue;
      for (const path of spellings(fill(route.path, forbidden))) {
        const reply = await send(baseUrl, route.method, path, { key: 'k-one', body: bodyFor(route.method) });
        if (reply.status !== 403 && reply.status !== 404)
          reached.push(`k-one: ${route.method} ${path} → ${reply.status}`);
      }
    }
    // Routes that find the bot in a stored call: a finished call of a bot k-one may not touch.
    endpoint.reply('/stored', 400, { error: 'no' });
    const hook = await send(baseUrl, 'POST', `/v1/bots/bot5/webhooks`, {
      key: 'k-all',
      body: { name: 'stored', method: 'GET', url: `${endpoint.url}/stored`, retry: { attempts: 1, backoffMs: 0 } },
    });
    expect(hook.status).toBe(201);
    const { callId } = (
      await send(baseUrl, 'POST', '/v1/bots/bot5/calls', { key: 'k-all', body: { webhook: 'stored', userId: 'u5' } })
    ).body;
    await pollUntil(
      async () => (await send(baseUrl, 'GET', `/v1/calls/${callId}`, { key: 'k-all' })).body?.status === 'failed',
      {
        message: `call ${callId} did not fail`,
      },
    );
    for (const [method, path] of [
      ['GET', `/v1/calls/${callId}`],
      ['POST', `/v1/calls/${callId}/retry`],
    ]) {
      for (const escaped of spellings(path)) {
        const anonymous = await send(baseUrl, method, escaped);
        if (anonymous.status !== 401) reached.push(`${method} ${escaped} → ${anonymous.status}`);
        const restricted = await send(baseUrl, method, escaped, { key: 'k-one' });
        if (restricted.status !== 403) reached.push(`k-one: ${method} ${escaped} → ${restricted.status}`);
      }
    }

    expect(reached).toEqual([]);
    const written = [open, forbidden].flatMap((botId) => [
      `hookrunner:bot:{${botId}}:webhooks`,
      `hookrunner:bot:{${botId}}:signing`,
    ]);
    expect(await client.exists(...written)).toBe(0);
  });

  it('answers 401 to a wrong key, a near miss and a malformed header', async () => {
    const authorizations = [
      `Bearer ${WRONG_KEY}`,
      'Bearer k-al',
      'Bearer k-all-',
      'Bearer K-ALL',
      'Bearer k-one:bot1',
      'k-all',
      `Basic ${Buffer.from('k-all:').toString('base64')}`,
      'Bearer',
      '',
    ];
    for (const authorization of authorizations) {
      for (const [method, path] of [
        ['GET', '/v1/bots/bot1/webhooks'],
        ['POST', '/v1/bots/bot1/calls'],
      ]) {
        const reply = await send(baseUrl, method, path, { authorization, body: bodyFor(method) });
        expect({ authorization, path, status: reply.status }).toEqual({ authorization, path, status: 401 });
      }
    }
  });

  it('lets a restricted key act for its bots only: 403 on bot3, 2xx on bot1 and bot2', async () => {
    // Every bot-scoped route refuses bot3 before looking at the request.
    for (const route of mappedRoutes(app.output()).filter((r) => r.path.includes(':botId'))) {
      const path = fill(route.path, 'bot3');
      const reply = await send(baseUrl, route.method, path, { key: 'k-one', body: bodyFor(route.method) });
      expect({ route: `${route.method} ${path}`, status: reply.status }).toEqual({
        route: `${route.method} ${path}`,
        status: 403,
      });
    }
    expect(await client.exists('hookrunner:bot:{bot3}:webhooks', 'hookrunner:bot:{bot3}:signing')).toBe(0);

    endpoint.reply('/ok', 200, { responses: ['fine'] });
    const name = uniqueId('hook');
    for (const botId of ['bot1', 'bot2']) {
      const created = await send(baseUrl, 'POST', `/v1/bots/${botId}/webhooks`, {
        key: 'k-one',
        body: { name, method: 'GET', url: `${endpoint.url}/ok`, retry: { attempts: 1, backoffMs: 0 } },
      });
      expect(created.status).toBe(201);
      expect((await send(baseUrl, 'GET', `/v1/bots/${botId}/webhooks/${name}`, { key: 'k-one' })).status).toBe(200);
      const enqueued = await send(baseUrl, 'POST', `/v1/bots/${botId}/calls`, {
        key: 'k-one',
        body: { webhook: name, userId: 'u1' },
      });
      expect(enqueued.status).toBe(202);
      // A call of its own bot is readable with the restricted key.
      const call = await pollUntil(
        async () => {
          const reply = await send(baseUrl, 'GET', `/v1/calls/${enqueued.body.callId}`, { key: 'k-one' });
          return reply.status === 200 && reply.body.status === 'succeeded' ? reply : undefined;
        },
        { timeoutMs: 15_000, message: `call ${enqueued.body.callId} of ${botId} did not succeed` },
      );
      expect(call.body.botId).toBe(botId);
      expect((await send(baseUrl, 'GET', `/v1/bots/${botId}/users/u1`, { key: 'k-one' })).status).toBe(200);
    }
    // The unrestricted key acts for any bot.
    expect((await send(baseUrl, 'GET', '/v1/bots/bot3/webhooks', { key: 'k-all' })).status).toBe(200);
  });

  it('answers 403 on GET /v1/calls/{callId} and its retry for a call of a bot the key may not touch', async () => {
    endpoint.reply('/refuse', 400, { error: 'no' });
    const name = uniqueId('hook');
    const created = await send(baseUrl, 'POST', '/v1/bots/bot3/webhooks', {
      key: 'k-all',
      body: { name, method: 'GET', url: `${endpoint.url}/refuse`, retry: { attempts: 1, backoffMs: 0 } },
    });
    expect(created.status).toBe(201);
    events = await subscribeEvents(redis.url, 'bot3');
    const enqueued = await send(baseUrl, 'POST', '/v1/bots/bot3/calls', {
      key: 'k-all',
      body: { webhook: name, userId: 'u3' },
    });
    expect(enqueued.status).toBe(202);
    const callId: string = enqueued.body.callId;
    expect((await events.waitFor(callId)).type).toBe('call.failed');
    await pollUntil(
      async () => (await send(baseUrl, 'GET', `/v1/calls/${callId}`, { key: 'k-all' })).body?.status === 'failed',
      {
        message: `call ${callId} is not readable as failed`,
      },
    );

    const read = await send(baseUrl, 'GET', `/v1/calls/${callId}`, { key: 'k-one' });
    expect(read.status).toBe(403);
    expect(read.text).not.toContain(name); // nothing of the call shows through the refusal
    const retried = await send(baseUrl, 'POST', `/v1/calls/${callId}/retry`, { key: 'k-one' });
    expect(retried.status).toBe(403);
    const unauthenticated = await send(baseUrl, 'POST', `/v1/calls/${callId}/retry`);
    expect(unauthenticated.status).toBe(401);

    // The refused retry did not run the call again.
    const after = await send(baseUrl, 'GET', `/v1/calls/${callId}`, { key: 'k-all' });
    expect(after.body.status).toBe('failed');
    expect(after.body.attemptLog).toHaveLength(1);
    expect(endpoint.requestsTo('/refuse')).toHaveLength(1);
    // The key allowed for bot3 may retry it: the 403 was about the key, not the call.
    expect((await send(baseUrl, 'POST', `/v1/calls/${callId}/retry`, { key: 'k-all' })).status).toBe(202);
  });

  it('serves /health, /ready and /metrics without a key', async () => {
    for (const path of ['/health', '/ready', '/metrics']) {
      const reply = await send(baseUrl, 'GET', path);
      expect({ path, status: reply.status }).toEqual({ path, status: 200 });
    }
  });

  // Runs last of the tests that use the shared process: it stops it.
  it('never writes a key value to its output, even after failed attempts with it', async () => {
    // Failed attempts with real and wrong keys, in the places a logger might pick them up.
    await send(baseUrl, 'GET', '/v1/bots/bot3/webhooks', { key: 'k-one' });
    await send(baseUrl, 'GET', '/v1/bots/bot1/webhooks', { key: WRONG_KEY });
    await send(baseUrl, 'GET', `/v1/bots/bot1/webhooks?key=${WRONG_KEY}`, {
      authorization: `Bearer ${WRONG_KEY} extra`,
    });
    await send(baseUrl, 'POST', '/v1/bots/bot1/calls', {
      authorization: `Token ${WRONG_KEY}`,
      body: { webhook: 'w', userId: 'u' },
    });
    await send(baseUrl, 'GET', '/metrics', { key: 'k-all' });
    // Stopped, so every line it wrote has been read.
    await app.stop();
    const output = app.output();
    for (const secret of ['k-all', 'k-one', WRONG_KEY])
      expect({ secret, leaked: output.includes(secret) }).toEqual({ secret, leaked: false });
  });

  describe('configuration', () => {
    // Each test starts one process by hand, alone: what it checks is how that process reads its keys at start-up.
    let dir: string;

    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'hookrunner-auth-'));
    });

    afterAll(() => {
      rmSync(dir, { recursive: true, force: true });
    });

    it('reads API_KEYS_FILE, skipping comments and blank lines', async () => {
      const file = join(dir, 'keys');
      writeFileSync(
        file,
        [
          '# Hookrunner API keys, one per line',
          '',
          'file-key-all            # every bot',
          '   # an indented comment',
          'file-key-one:bot1|bot2  # two bots only',
          '#file-key-commented',
          '',
        ].join('\n'),
      );
      const api = await startApp('api', {
        REDIS_URL: redis.url,
        API_KEYS_FILE: file,
        API_KEYS: '',
        AUTH_DISABLED: '',
        LOG_LEVEL: 'info',
      });
      try {
        const url = `http://127.0.0.1:${api.port}`;
        expect((await send(url, 'GET', '/v1/bots/bot3/webhooks', { key: 'file-key-all' })).status).toBe(200);
        expect((await send(url, 'GET', '/v1/bots/bot1/webhooks', { key: 'file-key-one' })).status).toBe(200);
        expect((await send(url, 'GET', '/v1/bots/bot3/webhooks', { key: 'file-key-one' })).status).toBe(403);
        expect((await send(url, 'GET', '/v1/bots/bot1/webhooks', { key: 'file-key-commented' })).status).toBe(401);
        expect((await send(url, 'GET', '/v1/bots/bot1/webhooks', { key: 'k-all' })).status).toBe(401);
        expect((await send(url, 'GET', '/v1/bots/bot1/webhooks')).status).toBe(401);
        for (const secret of ['file-key-all', 'file-key-one']) expect(api.output()).not.toContain(secret);
      } finally {
        await api.stop();
      }
    });

    it('refuses to start the API role with no keys, naming API_KEYS', async () => {
      const api = spawnApp('api', {
        REDIS_URL: redis.url,
        PORT: String(await freePort()),
        API_KEYS: '',
        API_KEYS_FILE: '',
        AUTH_DISABLED: '',
      });
      const exit = await pollUntil(() => api.exitedWith, {
        timeoutMs: 20_000,
        message: 'the API without keys did not exit',
      }).catch(async (error) => {
        await api.stop();
        throw error;
      });
      expect(exit.code).not.toBe(0);
      expect(api.output()).toContain('API_KEYS');
    });

    it('runs open with AUTH_DISABLED=true and says so with a warning', async () => {
      const api = await startApp('api', {
        REDIS_URL: redis.url,
        AUTH_DISABLED: 'true',
        API_KEYS: '',
        LOG_LEVEL: 'info',
      });
      try {
        const warning = api
          .output()
          .split('\n')
          .map((line) => {
            try {
              return JSON.parse(line) as { level: number; msg: string };
            } catch {
              return undefined;
            }
          })
          .find((entry) => entry?.msg?.includes('AUTH_DISABLED'));
        expect(warning).toBeDefined();
        expect(warning!.level).toBeGreaterThanOrEqual(40); // pino's warn
        expect((await send(`http://127.0.0.1:${api.port}`, 'GET', '/v1/bots/bot1/webhooks')).status).toBe(200);
      } finally {
        await api.stop();
      }
    });

    it('generates a key on the first run in one-process mode, prints it once and keeps it under .data/', async () => {
      const cwd = join(dir, 'first-run');
      const port = await freePort();
      const first = await startInDir(cwd, { REDIS_URL: redis.url, PORT: String(port) });
      let key: string;
      try {
        const output = first.output();
        key = /\bhr_[A-Za-z0-9_-]{20,}/.exec(output)?.[0] ?? '';
        expect(key).not.toBe('');
        expect(output.split(key)).toHaveLength(2); // printed exactly once

        const file = join(cwd, '.data', 'api-keys');
        expect(readFileSync(file, 'utf8')).toContain(key);
        expect(statSync(file).mode & 0o077).toBe(0); // readable by its owner only
        expect(existsSync(join(cwd, '.data', 'secrets-key'))).toBe(true);

        const url = `http://127.0.0.1:${port}`;
        expect((await send(url, 'GET', '/v1/bots/bot1/webhooks')).status).toBe(401);
        expect((await send(url, 'GET', '/v1/bots/bot1/webhooks', { key })).status).toBe(200);
      } finally {
        await first.stop();
      }

      // The next run reuses the key and does not print it again.
      const second = await startInDir(cwd, { REDIS_URL: redis.url, PORT: String(port) });
      try {
        expect(second.output()).not.toContain(key);
        expect((await send(`http://127.0.0.1:${port}`, 'GET', '/v1/bots/bot1/webhooks', { key })).status).toBe(200);
        expect((await send(`http://127.0.0.1:${port}`, 'GET', '/v1/bots/bot1/webhooks')).status).toBe(401);
      } finally {
        await second.stop();
      }
    });
  });
});

interface DirProcess {
  output(): string;
  stop(): Promise<void>;
}

const HOOKRUNNER_MAIN = resolve(__dirname, '..', '..', 'dist', 'apps', 'hookrunner', 'src', 'main.js');

/**
 * `npm start`'s process run from `cwd`, so the `.data/` it creates is a test's own and not the
 * repository's. None of the key settings is inherited: this is a first run with nothing configured.
 */
async function startInDir(cwd: string, env: Record<string, string>): Promise<DirProcess> {
  const {
    REDIS_URL: _r,
    API_KEYS: _k,
    API_KEYS_FILE: _f,
    AUTH_DISABLED: _d,
    SECRETS_KEY: _s,
    ...inherited
  } = process.env;
  mkdirSync(cwd, { recursive: true });
  const child: ChildProcess = spawn(process.execPath, [HOOKRUNNER_MAIN], {
    cwd,
    env: { ...inherited, NO_COLOR: '1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const release = reapOnExit({ pid: child.pid });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let exited = false;
  const closed = new Promise<void>((done) =>
    child.once('close', () => {
      exited = true;
      release();
      done();
    }),
  );
  const stop = async (): Promise<void> => {
    if (!exited) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await closed;
    clearTimeout(timer);
  };
  try {
    await pollUntil(
      async () => {
        if (exited) throw new Error('exited');
        const res = await fetch(`http://127.0.0.1:${env.PORT}/health`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        return res.status === 200;
      },
      { timeoutMs: 20_000, intervalMs: 50, message: `hookrunner in ${cwd} did not become healthy` },
    );
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n--- output ---\n${output}`);
  }
  return { output: () => output, stop };
}
