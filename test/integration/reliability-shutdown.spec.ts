import type { IncomingHttpHeaders } from 'node:http';
import type Redis from 'ioredis';
import {
  ApiClient,
  AppProcess,
  createWebhook,
  enqueueCall,
  EventCollector,
  pollUntil,
  SplitDeployment,
  startSplitDeployment,
  TestEndpoint,
  waitForIdleQueues,
} from '../support';

/*
 * The item 4: SIGTERM stops taking new calls, lets the calls in flight finish within
 * SHUTDOWN_GRACE_MS, and exits 0. Past the grace period the process still exits 0, and another
 * worker runs the unfinished calls once their locks lapse: each still ends in exactly one event.
 */

const BOT = 'shutdown-bot';
const SLOW_MS = 2_000;
const VERY_SLOW_MS = 10_000;
const IN_FLIGHT = 4;

describe('graceful shutdown', () => {
  let deployment: SplitDeployment;
  let client: Redis;
  let endpoint: TestEndpoint;
  let events: EventCollector;
  let http: ApiClient;

  beforeAll(async () => {
    deployment = await startSplitDeployment({
      // No worker yet: each test starts its own.
      worker: [],
      env: {
        LOG_LEVEL: 'info',
        // A lapsed lock is noticed within a few seconds, so the take-over case stays short.
        WORKER_LOCK_DURATION_MS: '3000',
        WORKER_STALLED_INTERVAL_MS: '1000',
      },
    });
    ({ client, endpoint, api: http } = deployment);
    endpoint.replySequence('/slow', [{ status: 200, body: { responses: ['slow but done'] }, delayMs: SLOW_MS }]);
    // Only a call's first request is very slow: the worker that takes it over gets a quick answer.
    const seen = new Set<string>();
    endpoint.script('/very-slow', (req, res) => {
      const key = callIdOf(req.headers);
      const delay = seen.has(key) ? 0 : VERY_SLOW_MS;
      seen.add(key);
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ responses: ['finished elsewhere'] }));
      }, delay).unref();
    });

    events = await deployment.subscribe(BOT);
    await createWebhook(http, BOT, {
      name: 'slow',
      method: 'POST',
      url: `${endpoint.url}/slow`,
      timeoutMs: 5_000,
      retry: { attempts: 3, backoffMs: 100 },
    });
    await createWebhook(http, BOT, {
      name: 'very-slow',
      method: 'POST',
      url: `${endpoint.url}/very-slow`,
      timeoutMs: 15_000,
      retry: { attempts: 3, backoffMs: 100 },
    });
  });

  afterAll(() => deployment?.stop());

  const startWorker = (extra: Record<string, string> = {}): Promise<AppProcess> => deployment.start('worker', extra);

  async function enqueueMany(webhook: string, n: number, tag: string): Promise<string[]> {
    return Promise.all(Array.from({ length: n }, (_, i) => enqueueCall(http, BOT, { webhook, userId: `${tag}-${i}` })));
  }

  /** Waits until the endpoint has received a request for each of `callIds`. */
  async function reached(path: string, callIds: string[]): Promise<void> {
    await pollUntil(() => callIds.every((id) => endpoint.requestsTo(path).some((r) => callIdOf(r.headers) === id)), {
      timeoutMs: 10_000,
      message: `not every call reached ${path}`,
    });
  }

  /** SIGTERM, then how long the process took to exit and with what. */
  async function terminate(app: AppProcess): Promise<{ code: number | null; signal: string | null; ms: number }> {
    const started = Date.now();
    app.kill('SIGTERM');
    const exit = await app.exited;
    return { ...exit, ms: Date.now() - started };
  }

  it('finishes in-flight calls, takes no new ones and exits 0 before SHUTDOWN_GRACE_MS', async () => {
    const graceMs = 8_000;
    const worker = await startWorker({ SHUTDOWN_GRACE_MS: String(graceMs) });
    const inFlight = await enqueueMany('slow', IN_FLIGHT, 'graceful');
    await reached('/slow', inFlight);

    const exiting = terminate(worker);
    await pollUntil(() => /SIGTERM received/.test(worker.output()), {
      timeoutMs: 5_000,
      message: 'the worker did not acknowledge SIGTERM',
    });
    const lateComers = await enqueueMany('slow', 2, 'late');

    const exit = await exiting;
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    // It waited for the calls it was running (about SLOW_MS from their start), but not for the grace period.
    expect(exit.ms).toBeGreaterThanOrEqual(SLOW_MS / 2);
    expect(exit.ms).toBeLessThan(graceMs);

    const finished = await events.waitForAll(inFlight, 5_000);
    expect(finished.map((e) => [e.type, e.attempts])).toEqual(inFlight.map(() => ['call.succeeded', 1]));
    expect(inFlight.map((id) => events.forCall(id).length)).toEqual(inFlight.map(() => 1));
    // Every in-flight call was performed once, by the worker that was stopping.
    const hits = endpoint.requestsTo('/slow').map((r) => callIdOf(r.headers));
    expect(inFlight.map((id) => hits.filter((h) => h === id).length)).toEqual(inFlight.map(() => 1));

    // The calls enqueued after SIGTERM were left in the queue, and the next worker runs them.
    expect(lateComers.filter((id) => hits.includes(id))).toEqual([]);
    expect(lateComers.filter((id) => events.forCall(id).length > 0)).toEqual([]);
    const next = await startWorker();
    const late = await events.waitForAll(lateComers, 10_000);
    expect(late.map((e) => e.type)).toEqual(lateComers.map(() => 'call.succeeded'));
    await next.stop();
  });

  it('exits 0 after about SHUTDOWN_GRACE_MS when calls outlast it; another worker finishes each once', async () => {
    const graceMs = 1_000;
    const worker = await startWorker({ SHUTDOWN_GRACE_MS: String(graceMs) });
    const calls = await enqueueMany('very-slow', 3, 'cut-short');
    await reached('/very-slow', calls);
    const other = await startWorker();

    const exit = await terminate(worker);
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });

    const finished = await events.waitForAll(calls, 15_000);
    expect(finished.map((e) => [e.type, e.responses])).toEqual(
      calls.map(() => ['call.succeeded', ['finished elsewhere']]),
    );
    // Once both queues are idle no further event can come: each call ended exactly once.
    await waitForIdleQueues(client);
    expect(calls.map((id) => events.forCall(id).length)).toEqual(calls.map(() => 1));

    // About a second: the grace period, then closing connections; far less than the 10 s calls.
    expect(exit.ms).toBeGreaterThanOrEqual(graceMs - 100);
    expect(exit.ms).toBeLessThan(graceMs + 2_000);
    await other.stop();
  });

  it('exits 0 on SIGTERM for the API and the results consumer', async () => {
    const [apiApp, resultsApp] = [deployment.apps.api[0], deployment.apps.results[0]];
    const [apiExit, resultsExit] = await Promise.all([terminate(apiApp), terminate(resultsApp)]);
    expect({ code: apiExit.code, signal: apiExit.signal }).toEqual({ code: 0, signal: null });
    expect({ code: resultsExit.code, signal: resultsExit.signal }).toEqual({ code: 0, signal: null });
    expect(apiExit.ms).toBeLessThan(5_000);
    expect(resultsExit.ms).toBeLessThan(5_000);
  });
});

function callIdOf(headers: IncomingHttpHeaders): string {
  return String(headers['idempotency-key']);
}
