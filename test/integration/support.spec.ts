import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { freePort, pollUntil, startEndpoint, startRedis, TestEndpoint, TestRedis } from '../support';

/** Resolves true when 127.0.0.1:port can be bound, i.e. nothing listens there any more. */
const canBind = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

describe('startRedis', () => {
  let redis: TestRedis | undefined;

  afterEach(async () => {
    await redis?.stop();
    redis = undefined;
  });

  it('starts a server of our own that answers PING', async () => {
    redis = await startRedis();
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await redis.client().ping()).toBe('PONG');
    expect(await redis.client().config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
  });

  it('keeps a key across a crash and restart() when appendonly is on', async () => {
    redis = await startRedis({ appendonly: true, appendfsync: 'always' });
    const before = redis.client();
    await before.set('survivor', 'still here');
    await redis.kill('SIGKILL');
    await redis.restart();
    expect(await redis.client().get('survivor')).toBe('still here');
    // A client from before the crash reconnects by itself.
    expect(await before.get('survivor')).toBe('still here');
  });

  it('frees its port and removes its dir on stop()', async () => {
    redis = await startRedis();
    const { port, dir } = redis;
    expect(await canBind(port)).toBe(false);
    await redis.stop();
    redis = undefined;
    expect(await canBind(port)).toBe(true);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('startEndpoint', () => {
  let endpoint: TestEndpoint;

  beforeEach(async () => {
    endpoint = await startEndpoint();
  });

  afterEach(() => endpoint.close());

  it('plays a reply sequence and then repeats its last reply', async () => {
    endpoint.replySequence('/flaky', [
      { status: 500, body: { error: 'down' } },
      { status: 500, body: { error: 'still down' } },
      { status: 200, body: { responses: ['ok'] } },
    ]);
    const statuses: number[] = [];
    const bodies: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${endpoint.url}/flaky?attempt=${i}`, { method: 'POST', body: `{"n":${i}}` });
      statuses.push(res.status);
      bodies.push(await res.json());
    }
    expect(statuses).toEqual([500, 500, 200, 200]);
    expect(bodies[2]).toEqual({ responses: ['ok'] });
    expect(endpoint.requestsTo('/flaky').map((r) => [r.method, r.url, r.query.get('attempt'), r.body])).toEqual([
      ['POST', '/flaky?attempt=0', '0', '{"n":0}'],
      ['POST', '/flaky?attempt=1', '1', '{"n":1}'],
      ['POST', '/flaky?attempt=2', '2', '{"n":2}'],
      ['POST', '/flaky?attempt=3', '3', '{"n":3}'],
    ]);
  });

  it('answers 404 {} to a path nobody scripted', async () => {
    const res = await fetch(`${endpoint.url}/nothing-here`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({});
  });

  it('passes the hit count to a scripted handler', async () => {
    endpoint.script('/count', (req, res, n) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ n, header: req.headers['x-test'] }));
    });
    await fetch(`${endpoint.url}/count`);
    const res = await fetch(`${endpoint.url}/count`, { headers: { 'x-test': 'yes' } });
    expect(await res.json()).toEqual({ n: 2, header: 'yes' });
  });

  it('delays a reply and sends its headers', async () => {
    endpoint.reply('/slow', 201, { ok: true }, { delayMs: 200, headers: { 'x-reply': 'slow' } });
    const started = Date.now();
    const res = await fetch(`${endpoint.url}/slow`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(res.status).toBe(201);
    expect(res.headers.get('x-reply')).toBe('slow');
  });

  it('closes promptly despite keep-alive connections and pending delays', async () => {
    endpoint.reply('/hang', 200, {}, { delayMs: 60_000 });
    await fetch(`${endpoint.url}/nothing-here`); // leaves a keep-alive socket open
    const hanging = fetch(`${endpoint.url}/hang`).then(
      () => 'answered',
      () => 'cut off',
    );
    await pollUntil(() => endpoint.requestsTo('/hang').length === 1, { message: 'the /hang request never arrived' });
    const started = Date.now();
    await endpoint.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await hanging).toBe('cut off');
    expect(await canBind(endpoint.port)).toBe(true);
  });
});

describe('pollUntil', () => {
  it('returns the first usable value', async () => {
    let calls = 0;
    const value = await pollUntil(() => (++calls >= 3 ? { calls } : undefined), { message: 'never' });
    expect(value).toEqual({ calls: 3 });
  });

  it('throws with the message and the last value on deadline', async () => {
    await expect(pollUntil(() => false, { timeoutMs: 100, message: 'the light never turned green' })).rejects.toThrow(
      /the light never turned green.*last value: false/,
    );
  });

  it('reports the last exception on deadline', async () => {
    await expect(
      pollUntil(
        () => {
          throw new Error('connection refused');
        },
        { timeoutMs: 100, message: 'no connection' },
      ),
    ).rejects.toThrow(/no connection[\s\S]*connection refused/);
  });

  it('does not wait past the deadline for a call that hangs', async () => {
    const started = Date.now();
    await expect(
      pollUntil(() => new Promise<never>(() => undefined), { timeoutMs: 200, message: 'hung' }),
    ).rejects.toThrow(/hung/);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('freePort', () => {
  it('returns a port that can be bound', async () => {
    expect(await canBind(await freePort())).toBe(true);
  });
});
