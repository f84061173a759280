import { randomUUID } from 'node:crypto';
import {
  ApiClient,
  createWebhook,
  HookrunnerStack,
  pollUntil,
  startEndpoint,
  startHookrunner,
  TestEndpoint,
  waitForIdleQueues,
} from '../support';

/*
 * Bounded cardinality: the number of series a Hookrunner process exports must not grow with
 * tenants. After a warm-up that produces every outcome once, 10,000 calls across 1,000 bots (each
 * with its own webhook name) leave the set of series exactly as it was, and no label value holds
 * a botId, userId, URL or webhook name.
 */

const BOTS = 1_000;
const CALLS_PER_BOT = 10;
const OUTCOMES = ['ok', 'flaky', 'missing', 'slow', 'garbled'] as const;
const METHODS = ['GET', 'POST'] as const;
const OK_REPLY = { responses: ['done'], memory: { n: 1 } };

/** Every identifier of this run contains it, so one search of the text finds any of them. */
const RUN = `cx${randomUUID().replace(/-/g, '').slice(0, 10)}`;

interface Series {
  /** Name and labels, without the value: `hookrunner_calls_total{method="GET",…}`. */
  id: string;
  labels: Record<string, string>;
}

/** The series of a scrape: every sample line, Node's own process_/nodejs_ metrics left out. */
function seriesOf(text: string): Series[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .filter((line) => !line.startsWith('process_') && !line.startsWith('nodejs_'))
    .map((line) => {
      const id = line.slice(0, line.lastIndexOf(' '));
      const labels: Record<string, string> = {};
      for (const [, key, value] of id.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
      return { id, labels };
    });
}

/** Runs `fn` over `items`, `limit` at a time. */
async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

function definition(
  name: string,
  method: (typeof METHODS)[number],
  outcome: (typeof OUTCOMES)[number],
  endpoint: TestEndpoint,
) {
  // A timeout is retried once, so warm-up and run alike produce timeout retries as well as timeout failures.
  const timing =
    outcome === 'slow'
      ? { timeoutMs: 100, retry: { attempts: 2, backoffMs: 1 } }
      : { retry: { attempts: 3, backoffMs: 1 } };
  return { name, method, url: `${endpoint.url}/${outcome}?bot=${name}`, ...timing };
}

async function enqueueBatch(client: ApiClient, botId: string, calls: Record<string, unknown>[]): Promise<void> {
  const reply = await client.post(`/v1/bots/${botId}/calls/batch`, { calls });
  const refused = (reply.body?.calls ?? []).filter((entry: { callId?: string }) => !entry.callId);
  if (reply.status !== 202 || refused.length > 0)
    throw new Error(`batch for ${botId} answered ${reply.status}: ${reply.text.slice(0, 500)}`);
}

describe('observability: bounded cardinality', () => {
  let stack: HookrunnerStack;
  let endpoint: TestEndpoint;

  const scrapeText = async (): Promise<string> => {
    const reply = await stack.api.get('/metrics');
    if (reply.status !== 200) throw new Error(`GET /metrics answered ${reply.status}`);
    return reply.text;
  };
  const callsCounted = (text: string): number =>
    text
      .split('\n')
      .filter((line) => line.startsWith('hookrunner_calls_total'))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  /** Waits until the process has counted `n` finished calls and both queues are empty. */
  const waitForCalls = async (n: number, timeoutMs: number): Promise<string> => {
    await pollUntil(async () => callsCounted(await scrapeText()) >= n, {
      timeoutMs,
      intervalMs: 250,
      message: `${n} calls were not counted`,
    });
    await waitForIdleQueues(stack.client, timeoutMs);
    return scrapeText();
  };

  beforeAll(async () => {
    [endpoint, stack] = await Promise.all([
      startEndpoint(),
      startHookrunner({
        RATE_LIMIT_PER_BOT: '0',
        WORKER_CONCURRENCY: '200',
        RESULTS_CONCURRENCY: '100',
        WORKER_LOCK_DURATION_MS: '5000',
        WORKER_STALLED_INTERVAL_MS: '2000',
        SHUTDOWN_GRACE_MS: '2000',
        // Every webhook here is one origin (the test endpoint) on purpose: its bulkhead and breaker
        // would throttle the run to that origin's share, which is not what this test measures.
        MAX_IN_FLIGHT_PER_ORIGIN: '10000',
        CIRCUIT_MIN_ATTEMPTS: '0',
      }),
    ]);
    endpoint.reply('/ok', 200, OK_REPLY);
    // Every other hit answers 500: some calls succeed on a retry, a few run out of attempts.
    endpoint.script('/flaky', (_req, res, n) => {
      res.writeHead(n % 2 === 1 ? 500 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(n % 2 === 1 ? { error: 'busy' } : OK_REPLY));
    });
    endpoint.reply('/slow', 200, OK_REPLY, { delayMs: 1_000 });
    endpoint.reply('/garbled', 200, '<html>not json</html>');
    // /missing is not scripted: 404.
  }, 30_000);

  afterAll(async () => {
    await endpoint?.close();
    await stack?.stop();
  }, 30_000);

  it('keeps the same series through 10,000 calls across 1,000 bots and webhooks', async () => {
    // Warm-up: every outcome once for each method, through the same routes the run uses.
    let warmupCalls = 0;
    for (const method of METHODS) {
      const botId = `${RUN}-warm-${method}`;
      for (const outcome of OUTCOMES)
        await createWebhook(
          stack.api,
          botId,
          definition(`${RUN}-warm-${method}-${outcome}`, method, outcome, endpoint),
        );
      await enqueueBatch(
        stack.api,
        botId,
        OUTCOMES.map((outcome) => ({ webhook: `${RUN}-warm-${method}-${outcome}`, userId: `${RUN}-warmuser` })),
      );
      warmupCalls += OUTCOMES.length;
    }
    await waitForCalls(warmupCalls, 20_000);
    // The second scrape also holds the series of the first scrape's own request.
    const before = seriesOf(await scrapeText());
    expect(before.some((s) => s.id.startsWith('hookrunner_retries_total{reason="timeout"'))).toBe(true);
    expect(before.some((s) => s.id.startsWith('hookrunner_retries_total{reason="http_status"'))).toBe(true);

    // The run: 1,000 bots, each with its own webhook name, 10 calls each from 10 users.
    const bots = Array.from({ length: BOTS }, (_, i) => ({
      botId: `${RUN}-bot-${i}`,
      webhook: `${RUN}-hook-${i}`,
      method: METHODS[i % METHODS.length],
      outcome: OUTCOMES[Math.floor(i / METHODS.length) % OUTCOMES.length],
    }));
    await inParallel(bots, 16, async (bot) => {
      await createWebhook(stack.api, bot.botId, definition(bot.webhook, bot.method, bot.outcome, endpoint));
      const calls = Array.from({ length: CALLS_PER_BOT }, (_, j) => ({
        webhook: bot.webhook,
        userId: `${RUN}-user-${bot.botId}-${j}`,
      }));
      await enqueueBatch(stack.api, bot.botId, calls);
    });
    const text = await waitForCalls(warmupCalls + BOTS * CALLS_PER_BOT, 50_000);
    expect(callsCounted(text)).toBe(warmupCalls + BOTS * CALLS_PER_BOT);

    const after = seriesOf(text);
    const beforeIds = new Set(before.map((s) => s.id));
    const afterIds = new Set(after.map((s) => s.id));
    expect({
      count: after.length,
      added: [...afterIds].filter((id) => !beforeIds.has(id)),
      removed: [...beforeIds].filter((id) => !afterIds.has(id)),
    }).toEqual({ count: before.length, added: [], removed: [] });

    // Nothing of a tenant in any label: every bot, user and webhook name of this run contains RUN.
    expect(text).not.toContain(RUN);
    expect(text).not.toContain(`127.0.0.1:${endpoint.port}`);
    const values = after.flatMap((s) => Object.entries(s.labels));
    expect(values.filter(([, value]) => /https?:|\/\/|bot=/.test(value))).toEqual([]);
    expect(values.filter(([key, value]) => key === 'status' && !/^[1-5]xx$/.test(value))).toEqual([]);
    const routes = new Set(values.filter(([key]) => key === 'route').map(([, value]) => value));
    expect([...routes].filter((route) => route !== 'unmatched' && !route.startsWith('/'))).toEqual([]);
    expect(routes).toContain('/v1/bots/:botId/calls/batch');
  }, 90_000);
});
