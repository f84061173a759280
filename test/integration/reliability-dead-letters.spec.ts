import type { ServerResponse } from 'node:http';
import type { CallEvent } from '@hookrunner/contracts';
import {
  ApiClient,
  createWebhook,
  enqueueCall,
  EventCollector,
  pollUntil,
  SplitDeployment,
  startSplitDeployment,
  TestEndpoint,
} from '../support';

/*
 * The issue's item 7: calls that failed for good stay inspectable (listed per bot, newest first,
 * paged), each with a log of every attempt, and can be run again with a fresh attempt budget,
 * ending in a new terminal event.
 */

const BOT = 'dead-letters-bot';
const BROKEN_ATTEMPTS = 2;
/** ATTEMPT_BODY_EXCERPT_CHARS in libs/contracts. */
const EXCERPT_CHARS = 512;
const GONE_TOGETHER = 7;
const LONG_ERROR_BODY = `{"error":"${'e'.repeat(2_000)}"}`;

interface ListedCall {
  callId: string;
  botId: string;
  webhook: string;
  status: string;
  finishedAt: string;
  error: { type: string; message: string; httpStatus?: number };
}

describe('dead letters and replay', () => {
  let deployment: SplitDeployment;
  let endpoint: TestEndpoint;
  let events: EventCollector;
  let http: ApiClient;
  /** The failed calls' events, oldest first. */
  const failed: CallEvent[] = [];

  beforeAll(async () => {
    deployment = await startSplitDeployment();
    ({ endpoint, api: http } = deployment);
    // The first GONE_TOGETHER requests are answered in one tick, so that calls often fail within
    // the same millisecond: paging must neither skip nor repeat calls that share a finishedAt.
    const held: ServerResponse[] = [];
    endpoint.script('/gone', (_req, res, n) => {
      held.push(res);
      if (n < GONE_TOGETHER) return;
      for (const r of held.splice(0))
        r.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such thing"}');
    });
    endpoint.reply('/broken', 500, LONG_ERROR_BODY);
    events = await deployment.subscribe(BOT);
    await createWebhook(http, BOT, {
      name: 'gone',
      method: 'POST',
      url: `${endpoint.url}/gone`,
      timeoutMs: 2_000,
      retry: { attempts: 3, backoffMs: 50 },
    });
    await createWebhook(http, BOT, {
      name: 'broken',
      method: 'POST',
      url: `${endpoint.url}/broken`,
      timeoutMs: 2_000,
      retry: { attempts: BROKEN_ATTEMPTS, backoffMs: 50 },
    });

    // One batch: several calls fail within the same millisecond, which paging must cope with.
    const calls = [
      ...Array.from({ length: GONE_TOGETHER }, (_, i) => ({ webhook: 'gone', userId: `g-${i}` })),
      ...Array.from({ length: 3 }, (_, i) => ({ webhook: 'broken', userId: `b-${i}` })),
    ];
    const reply = await http.post(`/v1/bots/${BOT}/calls/batch`, { calls });
    expect(reply.status).toBe(202);
    const ids = reply.body.calls.map((c: { callId: string }) => c.callId) as string[];
    failed.push(...(await events.waitForAll(ids, 20_000)));
    expect(failed.map((e) => e.type)).toEqual(ids.map(() => 'call.failed'));
  });

  afterAll(() => deployment?.stop());

  const listFailed = (query = '') =>
    http.get<{ calls: ListedCall[]; nextCursor?: string }>(`/v1/bots/${BOT}/calls?status=failed${query}`);

  it('lists failed calls newest first, each with its error', async () => {
    const page = await listFailed();
    expect(page.status).toBe(200);
    const listed = page.body.calls;
    expect(listed.map((c) => c.callId).sort()).toEqual(failed.map((e) => e.callId).sort());
    expect(page.body.nextCursor).toBeUndefined();

    const finishedAt = listed.map((c) => Date.parse(c.finishedAt));
    expect(finishedAt).toEqual([...finishedAt].sort((a, b) => b - a));

    for (const call of listed) {
      const event = failed.find((e) => e.callId === call.callId)!;
      expect(call).toMatchObject({ botId: BOT, status: 'failed', webhook: event.webhook, error: event.error });
      const expected =
        call.webhook === 'gone' ? { type: 'http_status', httpStatus: 404 } : { type: 'http_status', httpStatus: 500 };
      expect(call.error).toMatchObject(expected);
      expect(call.error.message).toContain(String(expected.httpStatus));
    }
  });

  it.each([1, 3])(
    'pages through every failed call exactly once while new failures arrive (limit %i)',
    async (limit) => {
      const before = failed.map((e) => e.callId);
      const seen: string[] = [];
      const arrived: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await listFailed(`&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        expect(page.status).toBe(200);
        expect(page.body.calls.length).toBeLessThanOrEqual(limit);
        seen.push(...page.body.calls.map((c) => c.callId));
        cursor = page.body.nextCursor;
        pages += 1;
        if (pages <= 2) {
          // A new failure lands at the head of the list between two pages.
          const callId = await enqueueCall(http, BOT, { webhook: 'gone', userId: `late-${limit}-${pages}` });
          arrived.push(callId);
          failed.push(await events.waitFor(callId, 10_000));
        }
      } while (cursor && pages < 50);

      expect(pages).toBeGreaterThanOrEqual(Math.ceil(before.length / limit));
      expect(seen.filter((id, i) => seen.indexOf(id) !== i)).toEqual([]);
      expect(seen.filter((id) => !arrived.includes(id)).sort()).toEqual([...before].sort());
    },
  );

  it('answers 400 to a bad status, limit or cursor', async () => {
    const bad = [
      `/v1/bots/${BOT}/calls`,
      `/v1/bots/${BOT}/calls?status=succeeded`,
      `/v1/bots/${BOT}/calls?status=failed&limit=0`,
      `/v1/bots/${BOT}/calls?status=failed&limit=101`,
      `/v1/bots/${BOT}/calls?status=failed&limit=ten`,
      `/v1/bots/${BOT}/calls?status=failed&cursor=not-a-cursor`,
      `/v1/bots/${BOT}/calls?status=failed&cursor=${'9'.repeat(41)}`,
    ];
    for (const path of bad) {
      const reply = await http.get(path);
      expect({ path, status: reply.status }).toEqual({ path, status: 400 });
      expect(typeof reply.body.message === 'string' || Array.isArray(reply.body.message)).toBe(true);
    }
  });

  it('logs every attempt of a failed call, with a bounded body excerpt', async () => {
    const broken = failed.find((e) => e.webhook === 'broken')!;
    const call = await http.get(`/v1/calls/${broken.callId}`);
    expect(call.status).toBe(200);
    expect(call.body).toMatchObject({
      callId: broken.callId,
      status: 'failed',
      attempts: BROKEN_ATTEMPTS,
      error: { type: 'http_status', httpStatus: 500 },
    });
    const log = call.body.attemptLog as Array<Record<string, any>>;
    expect(log.map((a) => [a.run, a.attempt])).toEqual([
      [0, 1],
      [0, 2],
    ]);
    for (const attempt of log) {
      expect(attempt).toMatchObject({ httpStatus: 500, error: { type: 'http_status', httpStatus: 500 } });
      expect(Number.isNaN(Date.parse(attempt.startedAt))).toBe(false);
      expect(attempt.durationMs).toEqual(expect.any(Number));
      expect(attempt.bodyExcerpt).toBe(LONG_ERROR_BODY.slice(0, EXCERPT_CHARS));
    }
    expect(Date.parse(log[1].startedAt)).toBeGreaterThanOrEqual(Date.parse(log[0].startedAt));

    const gone = failed.find((e) => e.webhook === 'gone')!;
    const once = (await http.get(`/v1/calls/${gone.callId}`)).body;
    expect(once.attemptLog).toHaveLength(1);
    expect(once.attemptLog[0]).toMatchObject({
      run: 0,
      attempt: 1,
      httpStatus: 404,
      bodyExcerpt: '{"error":"no such thing"}',
    });
  });

  it('runs a failed call again with a fresh budget, ending in a new call.succeeded event', async () => {
    const broken = failed.find((e) => e.webhook === 'broken')!;
    endpoint.reply('/broken', 200, { responses: ['fixed'], memory: { fixed: true } });

    const retry = await http.post(`/v1/calls/${broken.callId}/retry`);
    expect(retry.status).toBe(202);
    expect(retry.body).toEqual({ callId: broken.callId, status: 'queued', run: 1 });

    const succeeded = await pollUntil(() => events.forCall(broken.callId).find((e) => e.type === 'call.succeeded'), {
      timeoutMs: 10_000,
      message: 'the retried call did not publish call.succeeded',
    });
    expect(succeeded).toMatchObject({ responses: ['fixed'], attempts: 1, changes: { memory: { fixed: true } } });
    expect(events.forCall(broken.callId).map((e) => e.type)).toEqual(['call.failed', 'call.succeeded']);

    const call = (await http.get(`/v1/calls/${broken.callId}`)).body;
    expect(call).toMatchObject({ status: 'succeeded', result: { responses: ['fixed'] } });
    expect(call.error).toBeUndefined();
    expect(
      call.attemptLog.map((a: { run: number; attempt: number; httpStatus: number }) => [
        a.run,
        a.attempt,
        a.httpStatus,
      ]),
    ).toEqual([
      [0, 1, 500],
      [0, 2, 500],
      [1, 1, 200],
    ]);

    const listed = (await listFailed('&limit=100')).body.calls.map((c) => c.callId);
    expect(listed).not.toContain(broken.callId);
    expect(listed).toHaveLength(failed.length - 1);
  });

  it('refuses to retry a succeeded call (409) or an unknown one (404)', async () => {
    const broken = failed.find((e) => e.webhook === 'broken')!;
    await pollUntil(async () => (await http.get(`/v1/calls/${broken.callId}`)).body.status === 'succeeded', {
      timeoutMs: 10_000,
      message: 'not succeeded',
    });
    const again = await http.post(`/v1/calls/${broken.callId}/retry`);
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/succeeded/);

    const unknown = await http.post('/v1/calls/no-such-call/retry');
    expect(unknown.status).toBe(404);
  });

  it('answers for a replayed call at every moment of its new run, never 404', async () => {
    const broken = failed.filter((e) => e.webhook === 'broken')[1];
    endpoint.reply('/broken', 200, { responses: ['fixed slowly'] }, { delayMs: 300 });

    const retry = await http.post(`/v1/calls/${broken.callId}/retry`);
    expect(retry.status).toBe(202);
    const seen: { status: number; callStatus?: string }[] = [];
    await pollUntil(
      async () => {
        const reply = await http.get(`/v1/calls/${broken.callId}`);
        seen.push({ status: reply.status, callStatus: reply.body.status });
        return (
          events.forCall(broken.callId).some((e) => e.type === 'call.succeeded') && reply.body.status === 'succeeded'
        );
      },
      { timeoutMs: 10_000, intervalMs: 5, message: 'the replayed call did not succeed' },
    );

    expect(seen.filter((s) => s.status !== 200)).toEqual([]);
    // The new run moves forward only: queued, then running, then succeeded.
    const order = ['queued', 'running', 'succeeded'];
    const ranks = seen.map((s) => order.indexOf(s.callStatus!));
    expect(ranks).not.toContain(-1);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(ranks).toContain(order.indexOf('running'));
  });
});
