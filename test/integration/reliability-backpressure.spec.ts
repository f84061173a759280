import Redis from 'ioredis';
import {
  ApiClient,
  ApiReply,
  createWebhook,
  EventCollector,
  pendingJobs,
  pollUntil,
  queuePrefixes,
  SplitDeployment,
  startSplitDeployment,
  TestEndpoint,
  waitingCallIds,
} from '../support';

/*
 * The item 6: past MAX_QUEUE_DEPTH waiting calls the API answers 429 with Retry-After
 * instead of letting the backlog grow, and finished jobs are removed (bounded by count and age) so
 * Redis holds a steady amount under a steady load.
 */

const BOT = 'backpressure-bot';
const MAX_DEPTH = 50;
/** BackpressureService re-reads the waiting count this often (apps/api/src/calls/backpressure.service.ts). */
const DEPTH_REFRESH_MS = 500;
/** removeOnComplete's count for call jobs (apps/api/src/calls/enqueue.service.ts). */
const COMPLETED_KEPT = 1_000;
/** A job's hash: `{hookrunner[:p]}:<queue>:<callId>` (results add `.r<run>` for replays), not `:meta` and kin. */
const JOB_HASH =
  /^\{hookrunner(?::\d+)?\}:(calls|results):[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(\.r\d+)?$/;

describe('backpressure and finished-job cleanup', () => {
  let deployment: SplitDeployment;
  let client: Redis;
  let endpoint: TestEndpoint;
  let events: EventCollector;
  /** An API refusing past MAX_DEPTH waiting calls. */
  let limited: ApiClient;
  /** An API on the same Redis with the default depth limit, for pushing volume. */
  let open: ApiClient;

  beforeAll(async () => {
    // No worker yet: each test starts its own.
    deployment = await startSplitDeployment({ api: [{ MAX_QUEUE_DEPTH: String(MAX_DEPTH) }, {}], worker: [] });
    ({ client, endpoint } = deployment);
    [limited, open] = deployment.apis;
    endpoint.reply('/ok', 200, { responses: ['ok'] });
    events = await deployment.subscribe(BOT);
    await createWebhook(open, BOT, {
      name: 'ok',
      method: 'POST',
      url: `${endpoint.url}/ok`,
      timeoutMs: 5_000,
      retry: { attempts: 1, backoffMs: 100 },
    });
  });

  afterAll(() => deployment?.stop());

  const waiting = async () => (await waitingCallIds(client)).length;
  const call = (i: number) => ({ webhook: 'ok', userId: `user-${i % 10}` });

  it('answers 429 with Retry-After past MAX_QUEUE_DEPTH, enqueues no refused call, admits once drained', async () => {
    const accepted: Array<{ callId: string; at: number }> = [];
    let refusal: ApiReply | undefined;
    // No worker runs: every accepted call stays waiting.
    for (let i = 0; i < 2_000 && !refusal; i++) {
      const reply = await limited.post(`/v1/bots/${BOT}/calls`, call(i));
      if (reply.status === 202) accepted.push({ callId: reply.body.callId, at: Date.now() });
      else if (reply.status === 429) refusal = reply;
      else throw new Error(`enqueue answered ${reply.status}: ${reply.text}`);
    }
    expect(refusal).toBeDefined();
    expect(Number(refusal!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(refusal!.body.message).toMatch(new RegExp(`limit ${MAX_DEPTH}\\b`));

    // The depth is re-read in the background every DEPTH_REFRESH_MS, never on the request path, so
    // calls arriving before the first read that sees the limit crossed are admitted on the stale
    // count: the queue may overshoot the limit by what arrives within one refresh (here, at full
    // speed, a couple of hundred calls). Allow that, and nothing later than two refreshes.
    const crossedAt = accepted[MAX_DEPTH - 1].at;
    const overshoot = accepted.slice(MAX_DEPTH);
    expect(overshoot.filter((a) => a.at - crossedAt > 2 * DEPTH_REFRESH_MS)).toEqual([]);

    // Refused calls (single and batch) are not enqueued: the queue holds exactly the accepted ones.
    for (let i = 0; i < 10; i++) expect((await limited.post(`/v1/bots/${BOT}/calls`, call(i))).status).toBe(429);
    const batch = await limited.post(`/v1/bots/${BOT}/calls/batch`, { calls: [call(1), call(2)] });
    expect(batch.status).toBe(429);
    expect(batch.headers.get('retry-after')).not.toBeNull();
    expect(await waiting()).toBe(accepted.length);

    const worker = await deployment.start('worker');
    const ids = accepted.map((a) => a.callId);
    const done = await events.waitForAll(ids, 20_000);
    expect(done.map((e) => e.type)).toEqual(ids.map(() => 'call.succeeded'));

    // Drained: within a refresh or two the same API admits calls again.
    const admitted = await pollUntil(
      async () => {
        const reply = await limited.post(`/v1/bots/${BOT}/calls`, call(0));
        return reply.status === 202 ? reply : undefined;
      },
      {
        timeoutMs: 4 * DEPTH_REFRESH_MS,
        intervalMs: 100,
        message: 'enqueue was still refused after the queue drained',
      },
    );
    await events.waitFor(admitted.body.callId, 5_000);
    await worker.stop();
  });

  it('keeps no finished job after many calls complete, so Redis memory stays flat', async () => {
    const worker = await deployment.start('worker');
    const total = COMPLETED_KEPT + 200;
    const ids: string[] = [];
    for (let start = 0; start < total; start += 200) {
      const reply = await open.post(`/v1/bots/${BOT}/calls/batch`, {
        calls: Array.from({ length: 200 }, (_, i) => call(start + i)),
      });
      expect(reply.status).toBe(202);
      ids.push(...reply.body.calls.map((c: { callId: string }) => c.callId));
    }
    const done = await events.waitForAll(ids, 40_000);
    expect(done.filter((e) => e.type !== 'call.succeeded')).toEqual([]);
    await pollUntil(
      async () => (await sumOver(client, 'calls', 'active')) + (await pendingJobs(client, 'results')) === 0,
      {
        timeoutMs: 5_000,
        message: 'jobs were still active after every event arrived',
      },
    );

    // Call jobs are removed once done (the result job, then the call record, answer for them).
    expect(await sumOver(client, 'calls', 'completed')).toBe(0);
    const hashes = await scanJobHashes(client);
    expect(hashes.calls).toBe(0);
    // Results leave their stream as soon as they are applied.
    expect(await pendingJobs(client, 'results')).toBe(0);
    expect(hashes.results).toBe(0);
    await worker.stop();
  });
});

/** A list's or set's length summed over the queue's partitions. */
async function sumOver(client: Redis, queue: 'calls', state: 'active' | 'completed'): Promise<number> {
  let sum = 0;
  for (const prefix of await queuePrefixes(client, queue))
    sum += state === 'active' ? await client.llen(`${prefix}:active`) : await client.zcard(`${prefix}:completed`);
  return sum;
}

/** Job hashes per queue (`{hookrunner[:p]}:<queue>:<jobId>`), counted with SCAN. */
async function scanJobHashes(client: Redis): Promise<{ calls: number; results: number }> {
  const counts = { calls: 0, results: 0 };
  let cursor = '0';
  do {
    const [next, found] = await client.scan(cursor, 'MATCH', '{hookrunner*}:*', 'COUNT', 1_000);
    cursor = next;
    for (const key of found) {
      const match = JOB_HASH.exec(key);
      if (match && (await client.type(key)) === 'hash') counts[match[1] as 'calls' | 'results'] += 1;
    }
  } while (cursor !== '0');
  return counts;
}
