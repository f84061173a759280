import { randomUUID } from 'node:crypto';
import {
  ApiClient,
  AppProcess,
  createWebhook,
  enqueueCall,
  pollUntil,
  SplitDeployment,
  startSplitDeployment,
  TestEndpoint,
  uniqueId,
} from '../support';

/*
 * Per-bot figures and per-call logs, the two places tenant detail is allowed to live since metric
 * labels may not carry it: GET /v1/bots/{botId}/stats counts each bot's calls apart, and the
 * results process writes one JSON line per finished call, without secrets or response bodies.
 */

interface BotStats {
  windowSeconds: number;
  calls: { succeeded: number; failed: number; total: number };
  latencySeconds: { p50: number | null; p90: number | null; p99: number | null };
}

interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** The JSON lines of a process's output; anything else it printed is skipped. */
function jsonLines(output: string): LogLine[] {
  return output.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });
}

const finishedLines = (app: AppProcess): LogLine[] =>
  jsonLines(app.output()).filter((line) => line.msg === 'call finished');

/** Unlike anything a process would print by itself. */
const MARK = randomUUID().replace(/-/g, '');
const SECRET = `sk_live_${MARK}_authorization`;
const API_KEY_SECRET = `xkey_${MARK}_header`;
/** 2 KB of text no process has any reason to print. */
const PADDING = Array.from({ length: 64 }, (_, i) => `${MARK}${String(i).padStart(2, '0')}`).join('');
const OK_BODY = JSON.stringify({ responses: ['done'], memory: { last: 'ok' }, padding: PADDING });
const MISSING_BODY = JSON.stringify({ error: 'not found', detail: PADDING.split('').reverse().join('') });

describe('observability: per-bot stats and per-call logs', () => {
  let deployment: SplitDeployment;
  let endpoint: TestEndpoint;
  let apiApp: AppProcess;
  let worker: AppProcess;
  let results: AppProcess;
  let client: ApiClient;
  const botA = uniqueId('statsbot-a');
  const botB = uniqueId('statsbot-b');
  const callIds: Record<string, string[]> = {};
  const expectedStatus = new Map<
    string,
    { botId: string; webhook: string; outcome: string; status?: number; attempts: number }
  >();

  const stats = async (botId: string): Promise<BotStats> => {
    const reply = await client.get<BotStats>(`/v1/bots/${botId}/stats`);
    if (reply.status !== 200) throw new Error(`stats of ${botId} answered ${reply.status}: ${reply.text}`);
    return reply.body;
  };

  const hooksFor = (botId: string) =>
    Promise.all([
      createWebhook(client, botId, {
        name: 'ok',
        method: 'POST',
        url: `${endpoint.url}/ok`,
        headers: { Authorization: `Bearer ${SECRET}`, 'X-Api-Key': API_KEY_SECRET },
        retry: { attempts: 1, backoffMs: 0 },
      }),
      createWebhook(client, botId, {
        name: 'missing',
        method: 'GET',
        url: `${endpoint.url}/missing`,
        retry: { attempts: 3, backoffMs: 0 },
      }),
      createWebhook(client, botId, {
        name: 'slow',
        method: 'POST',
        url: `${endpoint.url}/slow`,
        timeoutMs: 150,
        retry: { attempts: 1, backoffMs: 0 },
      }),
    ]);

  /** Enqueues the calls and waits for each one's event. */
  const run = async (
    botId: string,
    calls: Array<{ webhook: 'ok' | 'missing' | 'slow'; count: number }>,
  ): Promise<string[]> => {
    const events = await deployment.subscribe(botId);
    const ids: string[] = [];
    for (const { webhook, count } of calls) {
      for (let i = 0; i < count; i++) {
        const callId = await enqueueCall(client, botId, { webhook, userId: `user-${i}` });
        ids.push(callId);
        expectedStatus.set(callId, {
          botId,
          webhook,
          outcome: webhook === 'ok' ? 'succeeded' : 'failed',
          ...(webhook === 'slow' ? {} : { status: webhook === 'ok' ? 200 : 404 }),
          attempts: 1,
        });
      }
    }
    await events.waitForAll(ids, 20_000);
    callIds[botId] = [...(callIds[botId] ?? []), ...ids];
    return ids;
  };

  beforeAll(async () => {
    deployment = await startSplitDeployment({
      env: { LOG_LEVEL: 'info', RATE_LIMIT_PER_BOT: '0', SHUTDOWN_GRACE_MS: '2000' },
    });
    ({ endpoint, api: client } = deployment);
    [apiApp, worker, results] = [deployment.apps.api[0], deployment.apps.worker[0], deployment.apps.results[0]];

    endpoint.reply('/ok', 200, OK_BODY);
    endpoint.reply('/missing', 404, MISSING_BODY);
    endpoint.reply('/slow', 200, OK_BODY, { delayMs: 3_000 });
    await Promise.all([hooksFor(botA), hooksFor(botB)]);

    await run(botA, [
      { webhook: 'ok', count: 4 },
      { webhook: 'missing', count: 2 },
    ]);
    await run(botB, [
      { webhook: 'ok', count: 1 },
      { webhook: 'missing', count: 3 },
      { webhook: 'slow', count: 1 },
    ]);
  }, 60_000);

  afterAll(async () => {
    await deployment?.stop();
  }, 30_000);

  describe('GET /v1/bots/{botId}/stats', () => {
    it('counts each bot’s calls by outcome, exactly', async () => {
      // Counted just after the event is published: wait for the last ones to land.
      const a = await pollUntil(async () => ((await stats(botA)).calls.total === 6 ? stats(botA) : undefined), {
        timeoutMs: 10_000,
        message: `stats of ${botA} did not reach 6 calls`,
      });
      const b = await pollUntil(async () => ((await stats(botB)).calls.total === 5 ? stats(botB) : undefined), {
        timeoutMs: 10_000,
        message: `stats of ${botB} did not reach 5 calls`,
      });
      expect(a.calls).toEqual({ succeeded: 4, failed: 2, total: 6 });
      expect(b.calls).toEqual({ succeeded: 1, failed: 4, total: 5 });
      expect(a.windowSeconds).toBe(3600);
    });

    it('gives latency quantiles, ordered p50 ≤ p90 ≤ p99', async () => {
      for (const botId of [botA, botB]) {
        const { latencySeconds } = await stats(botId);
        const { p50, p90, p99 } = latencySeconds;
        expect({ botId, p50: typeof p50, p90: typeof p90, p99: typeof p99 }).toEqual({
          botId,
          p50: 'number',
          p90: 'number',
          p99: 'number',
        });
        expect(p50!).toBeGreaterThan(0);
        expect(p50!).toBeLessThanOrEqual(p90!);
        expect(p90!).toBeLessThanOrEqual(p99!);
        expect(p99!).toBeLessThanOrEqual(60);
      }
      // Bot B's slowest call waited out a 150 ms timeout; none of bot A's did.
      expect((await stats(botB)).latencySeconds.p99!).toBeGreaterThanOrEqual(0.1);
    });

    it('answers zeros and nulls for a bot that made no call', async () => {
      expect(await stats(uniqueId('neverseen'))).toEqual({
        windowSeconds: 3600,
        calls: { succeeded: 0, failed: 0, total: 0 },
        latencySeconds: { p50: null, p90: null, p99: null },
      });
    });
  });

  describe('the results process log', () => {
    it('has exactly one JSON "call finished" line per finished call, with the call’s facts', async () => {
      const all = [...callIds[botA], ...callIds[botB]];
      // The line is written after the stats are counted: wait for the last one.
      const lines = await pollUntil(
        () => {
          const found = finishedLines(results);
          return all.every((id) => found.some((line) => line.callId === id)) ? found : undefined;
        },
        { timeoutMs: 10_000, message: 'not every finished call was logged' },
      );
      expect(lines).toHaveLength(all.length);
      for (const callId of all) {
        const own = lines.filter((line) => line.callId === callId);
        expect({ callId, lines: own.length }).toEqual({ callId, lines: 1 });
        const [line] = own;
        const expected = expectedStatus.get(callId)!;
        expect(line).toMatchObject({
          level: 30,
          callId,
          botId: expected.botId,
          webhook: expected.webhook,
          outcome: expected.outcome,
          attempts: expected.attempts,
        });
        expect(typeof line.durationMs).toBe('number');
        expect(line.durationMs as number).toBeGreaterThanOrEqual(0);
        if (expected.status !== undefined)
          expect({ callId, status: line.status }).toEqual({ callId, status: expected.status });
        // A timeout has no HTTP status to report.
        else expect({ callId, status: line.status ?? null }).toEqual({ callId, status: null });
      }
    });

    it('never holds a definition header value or a full response body, in any process', () => {
      // They did travel: the endpoint received the headers and answered the bodies.
      const received = endpoint.requestsTo('/ok')[0];
      expect(received.headers.authorization).toBe(`Bearer ${SECRET}`);
      expect(received.headers['x-api-key']).toBe(API_KEY_SECRET);

      for (const app of [apiApp, worker, results]) {
        const output = app.output();
        for (const secret of [
          SECRET,
          API_KEY_SECRET,
          OK_BODY,
          MISSING_BODY,
          PADDING,
          PADDING.split('').reverse().join(''),
        ]) {
          expect({ role: app.role, leaked: output.includes(secret) ? secret.slice(0, 40) : undefined }).toEqual({
            role: app.role,
            leaked: undefined,
          });
        }
      }
    });

    it('writes no "call finished" line at LOG_LEVEL=warn', async () => {
      await results.stop();
      const quiet = await deployment.start('results', { LOG_LEVEL: 'warn' });
      try {
        const botC = uniqueId('statsbot-c');
        await hooksFor(botC);
        const ids = await run(botC, [
          { webhook: 'ok', count: 2 },
          { webhook: 'missing', count: 1 },
        ]);
        // The calls were finished by this process: their stats exist once it has counted them.
        await pollUntil(async () => (await stats(botC)).calls.total === ids.length, {
          timeoutMs: 10_000,
          message: `stats of ${botC} did not reach ${ids.length}`,
        });
        const lines = jsonLines(quiet.output());
        expect(lines.filter((line) => line.msg === 'call finished')).toEqual([]);
        expect(lines.filter((line) => line.level < 40)).toEqual([]);
        expect(quiet.output()).not.toContain(ids[0]);
      } finally {
        await quiet.stop();
      }
    }, 30_000);
  });
});
