import Redis from 'ioredis';
import type { CallEvent } from '@hookrunner/contracts';
import {
  ApiClient,
  ApiReply,
  AppProcess,
  createWebhook,
  enqueueCall,
  pollUntil,
  SplitDeployment,
  startSplitDeployment,
  TestEndpoint,
  TestRedis,
} from '../support';

/*
 * The item 3 with `appendfsync always`: Redis dies (SIGKILL) with calls queued and in
 * flight. While it is down the API refuses quickly and honestly (503 + Retry-After, /ready 503);
 * once it is back, every call that got a 202 ends in exactly one event, calls that got a 503 were
 * never taken, and the worker and results processes carry on without being restarted.
 *
 * The stream `hookrunner:events` is the ledger here: it lives in Redis (and its AOF), whereas a
 * pub/sub subscriber can miss what is published while it is resubscribing after the restart.
 */

const BOT = 'redis-bot';
const BEFORE_KILL = 30;
/** How long Redis stays down: long enough for every client to go through its reconnect backoff. */
const OUTAGE_MS = 3_000;
const AFTER_RESTART = 10;
const REPLY_DELAY_MS = 400;

describe('Redis killed and restarted under load (AOF, appendfsync always)', () => {
  let deployment: SplitDeployment;
  let redis: TestRedis;
  let endpoint: TestEndpoint;
  let ledger: Redis;
  let http: ApiClient;
  let worker: AppProcess;
  let results: AppProcess;
  let apps: AppProcess[];

  beforeAll(async () => {
    deployment = await startSplitDeployment({
      redis: { appendonly: true, appendfsync: 'always' },
      // Short locks so a call whose lock lapsed during the outage is taken over in seconds.
      env: { WORKER_LOCK_DURATION_MS: '5000', WORKER_STALLED_INTERVAL_MS: '1000' },
    });
    ({ redis, endpoint, api: http } = deployment);
    [worker] = deployment.apps.worker;
    [results] = deployment.apps.results;
    apps = [...deployment.apps.api, worker, results];
    endpoint.script('/slow', (req, res) => {
      const { n } = JSON.parse(req.body) as { n: string };
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ responses: [`done ${n}`] }));
      }, REPLY_DELAY_MS).unref();
    });
    await createWebhook(http, BOT, {
      name: 'slow',
      method: 'POST',
      url: `${endpoint.url}/slow`,
      timeoutMs: 5_000,
      retry: { attempts: 3, backoffMs: 200 },
    });
    ledger = redis.client({ maxRetriesPerRequest: null, enableOfflineQueue: true });
  });

  afterAll(() => deployment?.stop());

  const call = (n: string) => ({ webhook: 'slow', userId: `user-${n}`, params: { n } });

  /** Stream entries per callId, and every callId the stream holds. */
  async function streamLedger(): Promise<Map<string, CallEvent[]>> {
    const entries = await ledger.xrange('hookrunner:events', '-', '+');
    const byCall = new Map<string, CallEvent[]>();
    for (const [, flat] of entries) {
      const event = JSON.parse(flat[flat.indexOf('event') + 1]) as CallEvent;
      if (event.botId !== BOT) continue;
      byCall.set(event.callId, [...(byCall.get(event.callId) ?? []), event]);
    }
    return byCall;
  }

  it('refuses with 503 while Redis is down, loses and invents nothing, and recovers without restarts', async () => {
    const accepted: string[] = [];
    for (let i = 0; i < BEFORE_KILL; i++) accepted.push(await enqueueCall(http, BOT, call(`before-${i}`)));
    // Some calls are at the endpoint when Redis dies; others still wait in the queue.
    await pollUntil(() => endpoint.requestsTo('/slow').length >= 5, {
      timeoutMs: 5_000,
      message: 'no call reached the endpoint',
    });
    await redis.kill('SIGKILL');

    // A client keeps trying for the whole outage; each try must be answered, and answered fast.
    const refused: Array<{ reply: ApiReply; ms: number }> = [];
    const outageEnds = Date.now() + OUTAGE_MS;
    for (let i = 0; Date.now() < outageEnds; i++) {
      const started = Date.now();
      const reply = await http.post(`/v1/bots/${BOT}/calls`, call(`down-${i}`));
      refused.push({ reply, ms: Date.now() - started });
    }
    expect(refused.length).toBeGreaterThan(3);
    const readyStarted = Date.now();
    const ready = await http.get('/ready');
    const readyMs = Date.now() - readyStarted;

    for (const { reply, ms } of refused) {
      expect({ status: reply.status, retryAfter: reply.headers.get('retry-after') !== null }).toEqual({
        status: 503,
        retryAfter: true,
      });
      expect(Number(reply.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(ms).toBeLessThan(1_000);
    }
    expect(ready.status).toBe(503);
    expect(readyMs).toBeLessThan(2_000);

    await redis.restart();
    for (const app of apps) {
      const readyUrl = `http://127.0.0.1:${app.port}/ready`;
      await pollUntil(async () => (await fetch(readyUrl, { signal: AbortSignal.timeout(2_000) })).status === 200, {
        timeoutMs: 10_000,
        message: `${app.role} did not become ready again after the restart`,
      });
    }

    // Work continues: calls enqueued after the restart are performed and published.
    for (let i = 0; i < AFTER_RESTART; i++) accepted.push(await enqueueCall(http, BOT, call(`after-${i}`)));

    const byCall = await pollUntil(
      async () => {
        const seen = await streamLedger();
        return accepted.every((id) => seen.has(id)) ? seen : undefined;
      },
      { timeoutMs: 30_000, message: 'not every accepted call has an event in the stream' },
    );
    // Exactly one event per accepted call, all of them succeeded, and none for anything else.
    expect(accepted.filter((id) => byCall.get(id)!.length !== 1)).toEqual([]);
    expect([...byCall.keys()].sort()).toEqual([...accepted].sort());
    expect(accepted.map((id) => byCall.get(id)![0].type)).toEqual(accepted.map(() => 'call.succeeded'));

    // The refused calls never reached a worker: the endpoint saw no request for them.
    const bodies = endpoint.requestsTo('/slow').map((r) => (JSON.parse(r.body) as { n: string }).n);
    expect(bodies.filter((n) => n.startsWith('down-'))).toEqual([]);
    const ids = new Set(endpoint.requestsTo('/slow').map((r) => r.headers['idempotency-key']));
    expect([...ids].filter((id) => !accepted.includes(id as string))).toEqual([]);

    // Nobody restarted the worker or the results consumer: they reconnected by themselves.
    expect([worker.exitedWith, results.exitedWith]).toEqual([undefined, undefined]);
  });
});
