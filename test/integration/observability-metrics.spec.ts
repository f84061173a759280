import type { CallEvent } from '@hookrunner/contracts';
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
  TestRedis,
  uniqueId,
} from '../support';

/*
 * `curl /metrics` on each role run as its own process, as an SRE would: every metric the
 * observability issue lists is exported by the process that owns it, with HELP text and the right
 * TYPE, and after one call of every outcome the counters say exactly what happened. /health and
 * /ready on each, and /ready turning 503 while Redis is down.
 */

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

interface Exposition {
  text: string;
  help: Map<string, string>;
  type: Map<string, string>;
  samples: Sample[];
}

/** Parses the Prometheus text format: HELP and TYPE comments and one sample per other line. */
function parseExposition(text: string): Exposition {
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const comment = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (comment) {
      (comment[1] === 'HELP' ? help : type).set(comment[2], comment[3]);
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!sample) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, raw] of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key] = raw.replace(/\\(.)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: sample[1], labels, value: Number(sample[3]) });
  }
  return { text, help, type, samples };
}

/** The samples of `name` whose labels include `match`. */
function samplesOf(exp: Exposition, name: string, match: Record<string, string> = {}): Sample[] {
  return exp.samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
}

/** The sum of `name` over the samples whose labels include `match` (0 when there is none). */
function total(exp: Exposition, name: string, match: Record<string, string> = {}): number {
  return samplesOf(exp, name, match).reduce((sum, s) => sum + s.value, 0);
}

/** `name`'s samples as `{labels…} → value`, with label keys in a fixed order, for exact comparison. */
function byLabels(exp: Exposition, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samplesOf(exp, name)) {
    const key = Object.keys(s.labels)
      .sort()
      .map((k) => `${k}=${s.labels[k]}`)
      .join(',');
    out[key] = s.value;
  }
  return out;
}

async function scrape(port: number): Promise<Exposition> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET /metrics on ${port} answered ${res.status}: ${text}`);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return parseExposition(text);
}

async function statusOf(port: number, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: res.status, body };
}

type Role = 'api' | 'worker' | 'results';
type MetricType = 'counter' | 'gauge' | 'histogram';

/** What the issue asks for, by the process that owns each metric. */
const OWNED: Record<Role, Record<string, MetricType>> = {
  worker: {
    hookrunner_call_attempts_total: 'counter',
    hookrunner_retries_total: 'counter',
    hookrunner_call_duration_seconds: 'histogram',
    hookrunner_calls_in_flight: 'gauge',
    hookrunner_response_bytes: 'histogram',
    hookrunner_queue_wait_seconds: 'histogram',
  },
  results: {
    hookrunner_calls_total: 'counter',
    hookrunner_events_published_total: 'counter',
    hookrunner_state_merge_seconds: 'histogram',
    hookrunner_call_latency_seconds: 'histogram',
  },
  api: {
    hookrunner_http_requests_total: 'counter',
    hookrunner_http_request_duration_seconds: 'histogram',
    hookrunner_queue_jobs: 'gauge',
    hookrunner_queue_oldest_waiting_seconds: 'gauge',
  },
};
const EVERY_PROCESS: Record<string, MetricType> = {
  hookrunner_redis_up: 'gauge',
  hookrunner_redis_reconnects_total: 'counter',
};
const ROLES: Role[] = ['api', 'worker', 'results'];

const OK_REPLY = { responses: ['done'], memory: { seen: true } };

describe('observability: /metrics, /health and /ready of each process', () => {
  let deployment: SplitDeployment;
  let redis: TestRedis;
  let endpoint: TestEndpoint;
  let apps: Record<Role, AppProcess>;
  let client: ApiClient;
  let events: EventCollector | undefined;
  const botId = uniqueId('metricsbot');
  const userId = uniqueId('metricsuser');
  /** Webhook names are tenant data too: distinctive, so a leak into a label is found by a text search. */
  const hookPrefix = uniqueId('hookname');
  const hook = (kind: string): string => `${hookPrefix}.${kind}`;
  const ports = (): Record<Role, number> => ({
    api: apps.api.port,
    worker: apps.worker.port,
    results: apps.results.port,
  });

  beforeAll(async () => {
    deployment = await startSplitDeployment({
      env: {
        RATE_LIMIT_PER_BOT: '0',
        SHUTDOWN_GRACE_MS: '2000',
        WORKER_LOCK_DURATION_MS: '2000',
        WORKER_STALLED_INTERVAL_MS: '1000',
      },
    });
    ({ redis, endpoint, api: client } = deployment);
    apps = { api: deployment.apps.api[0], worker: deployment.apps.worker[0], results: deployment.apps.results[0] };
    events = await deployment.subscribe(botId);
  }, 45_000);

  afterAll(() => deployment?.stop(), 30_000);

  it('answers /health and /ready with 200 on every process', async () => {
    for (const role of ROLES) {
      expect({ role, ...(await statusOf(ports()[role], '/health')) }).toMatchObject({ role, status: 200 });
      const ready = await statusOf(ports()[role], '/ready');
      expect({ role, status: ready.status }).toEqual({ role, status: 200 });
      expect(ready.body).toMatchObject({ status: 'ok', info: { redis: { status: 'up' } } });
    }
  });

  it('exports every metric on the process that owns it, with HELP text and the right TYPE', async () => {
    for (const role of ROLES) {
      const exp = await scrape(ports()[role]);
      const wanted = { ...OWNED[role], ...EVERY_PROCESS };
      const seen = Object.keys(wanted).map((name) => ({
        role,
        name,
        type: exp.type.get(name),
        hasHelp: (exp.help.get(name) ?? '').trim().length > 0,
      }));
      expect(seen).toEqual(Object.entries(wanted).map(([name, type]) => ({ role, name, type, hasHelp: true })));
      // Every hookrunner metric a process exports has HELP text, not only the ones listed above.
      const withoutHelp = [...exp.type.keys()].filter(
        (name) => name.startsWith('hookrunner_') && !(exp.help.get(name) ?? '').trim(),
      );
      expect({ role, withoutHelp }).toEqual({ role, withoutHelp: [] });
      expect({ role, redisUp: total(exp, 'hookrunner_redis_up') }).toEqual({ role, redisUp: 1 });
      expect(samplesOf(exp, 'hookrunner_redis_reconnects_total')).toHaveLength(1);
    }
  });

  it('follows Prometheus naming: _total counters, _seconds and _bytes histograms', async () => {
    for (const role of ROLES) {
      const exp = await scrape(ports()[role]);
      for (const [name, type] of exp.type) {
        if (!name.startsWith('hookrunner_')) continue;
        if (type === 'counter') expect(name).toMatch(/_total$/);
        if (type !== 'counter') expect(name).not.toMatch(/_total$/);
        if (type === 'histogram') expect(name).toMatch(/_(seconds|bytes)$/);
      }
    }
  });

  it('exports the queue gauges from the API only, one series per queue and state', async () => {
    const apiExp = await scrape(apps.api.port);
    const states = ['active', 'completed', 'delayed', 'failed', 'waiting'];
    const jobs = samplesOf(apiExp, 'hookrunner_queue_jobs');
    const queues = [...new Set(jobs.map((s) => s.labels.queue))].sort();
    expect(queues.length).toBeGreaterThanOrEqual(2);
    for (const queue of queues) {
      expect(
        jobs
          .filter((s) => s.labels.queue === queue)
          .map((s) => s.labels.state)
          .sort(),
      ).toEqual(states);
    }
    expect(
      samplesOf(apiExp, 'hookrunner_queue_oldest_waiting_seconds')
        .map((s) => s.labels.queue)
        .sort(),
    ).toEqual(queues);

    for (const role of ['worker', 'results'] as const) {
      const exp = await scrape(ports()[role]);
      expect({
        role,
        type: exp.type.get('hookrunner_queue_jobs'),
        samples: samplesOf(exp, 'hookrunner_queue_jobs'),
      }).toEqual({ role, type: undefined, samples: [] });
      expect({ role, type: exp.type.get('hookrunner_queue_oldest_waiting_seconds') }).toEqual({
        role,
        type: undefined,
      });
    }
  });

  describe('after one call of every outcome', () => {
    let worker: Exposition;
    let results: Exposition;
    let apiExp: Exposition;
    let finished: CallEvent[];
    const rawCallId = uniqueId('nosuchcall');
    const unmatchedPath = `/no/such/route/${uniqueId('raw')}`;

    beforeAll(async () => {
      endpoint.reply('/ok', 200, OK_REPLY);
      endpoint.replySequence('/flaky', [
        { status: 500, body: { error: 'busy' } },
        { status: 200, body: OK_REPLY },
      ]);
      endpoint.reply('/slow', 200, OK_REPLY, { delayMs: 5_000 });
      endpoint.reply('/garbled', 200, 'this is { not json');
      // /missing is not scripted: the endpoint answers 404.
      const hooks = [
        { name: hook('ok'), method: 'GET', url: `${endpoint.url}/ok`, retry: { attempts: 3, backoffMs: 10 } },
        { name: hook('flaky'), method: 'POST', url: `${endpoint.url}/flaky`, retry: { attempts: 3, backoffMs: 10 } },
        {
          name: hook('missing'),
          method: 'POST',
          url: `${endpoint.url}/missing`,
          retry: { attempts: 3, backoffMs: 10 },
        },
        {
          name: hook('slow'),
          method: 'POST',
          url: `${endpoint.url}/slow`,
          timeoutMs: 200,
          retry: { attempts: 2, backoffMs: 10 },
        },
        {
          name: hook('garbled'),
          method: 'POST',
          url: `${endpoint.url}/garbled`,
          retry: { attempts: 3, backoffMs: 10 },
        },
      ];
      for (const definition of hooks) await createWebhook(client, botId, definition);

      const callIds: string[] = [];
      for (const kind of ['ok', 'ok', 'flaky', 'missing', 'slow', 'garbled'])
        callIds.push(await enqueueCall(client, botId, { webhook: hook(kind), userId }));
      finished = await events!.waitForAll(callIds, 20_000);
      // Requests the route label must not leak: a raw id on a matched route, and a path no route matches.
      expect((await client.get(`/v1/calls/${rawCallId}`)).status).toBe(404);
      expect((await client.get(unmatchedPath)).status).toBe(404);

      // The event is published before the results process counts the call: wait for the counters.
      results = await pollUntil(
        async () => {
          const exp = await scrape(apps.results.port);
          return total(exp, 'hookrunner_calls_total') >= 6 && total(exp, 'hookrunner_call_latency_seconds_count') >= 6
            ? exp
            : undefined;
        },
        { timeoutMs: 10_000, message: 'the results process did not count 6 calls' },
      );
      worker = await pollUntil(
        async () => {
          const exp = await scrape(apps.worker.port);
          return total(exp, 'hookrunner_call_attempts_total') >= 8 ? exp : undefined;
        },
        { timeoutMs: 10_000, message: 'the worker did not count 8 attempts' },
      );
      // The API counts a request once its reply has gone out, a moment after the client has it.
      apiExp = await pollUntil(
        async () => {
          const exp = await scrape(apps.api.port);
          return total(exp, 'hookrunner_http_requests_total', { route: 'unmatched' }) >= 1 &&
            total(exp, 'hookrunner_http_requests_total', { route: '/v1/calls/:callId' }) >= 1
            ? exp
            : undefined;
        },
        { timeoutMs: 10_000, message: 'the API did not count the 404s' },
      );
    }, 45_000);

    it('ends each call as the endpoint made it end', () => {
      expect(
        finished.map((e) => [e.webhook.slice(hookPrefix.length + 1), e.type, e.error?.type ?? 'none', e.attempts]),
      ).toEqual([
        ['ok', 'call.succeeded', 'none', 1],
        ['ok', 'call.succeeded', 'none', 1],
        ['flaky', 'call.succeeded', 'none', 2],
        ['missing', 'call.failed', 'http_status', 1],
        ['slow', 'call.failed', 'timeout', 2],
        ['garbled', 'call.failed', 'invalid_response', 1],
      ]);
    });

    it('counts calls by method, outcome and error type on the results process', () => {
      expect(byLabels(results, 'hookrunner_calls_total')).toEqual({
        'error_type=none,method=GET,outcome=succeeded': 2,
        'error_type=none,method=POST,outcome=succeeded': 1,
        'error_type=http_status,method=POST,outcome=failed': 1,
        'error_type=timeout,method=POST,outcome=failed': 1,
        'error_type=invalid_response,method=POST,outcome=failed': 1,
      });
      expect(byLabels(results, 'hookrunner_events_published_total')).toEqual({
        'type=call.succeeded': 3,
        'type=call.failed': 3,
      });
      expect(total(results, 'hookrunner_call_latency_seconds_count')).toBe(6);
      expect(total(results, 'hookrunner_state_merge_seconds_count')).toBe(6);
      expect(total(results, 'hookrunner_call_latency_seconds_sum')).toBeGreaterThan(0);
    });

    it('counts attempts by result and retries by reason on the worker', () => {
      // ok ×2, flaky's second try | flaky's 500, slow's first timeout | missing, slow's second timeout, garbled.
      expect(byLabels(worker, 'hookrunner_call_attempts_total')).toEqual({
        'result=success': 3,
        'result=retry': 2,
        'result=fail': 3,
      });
      expect(byLabels(worker, 'hookrunner_retries_total')).toEqual({ 'reason=http_status': 1, 'reason=timeout': 1 });
      expect(total(worker, 'hookrunner_call_duration_seconds_count')).toBe(8);
      expect(total(worker, 'hookrunner_call_duration_seconds_count', { method: 'GET' })).toBe(2);
      expect(total(worker, 'hookrunner_queue_wait_seconds_count')).toBe(6);
      // Every attempt that got an answer: all but the two timeouts.
      expect(total(worker, 'hookrunner_response_bytes_count')).toBe(6);
      expect(total(worker, 'hookrunner_response_bytes_sum')).toBeGreaterThan(0);
      expect(total(worker, 'hookrunner_calls_in_flight')).toBe(0);
    });

    it('counts nothing about calls on the processes that do not handle them', () => {
      expect(samplesOf(apiExp, 'hookrunner_calls_total')).toEqual([]);
      expect(samplesOf(apiExp, 'hookrunner_call_attempts_total')).toEqual([]);
      expect(samplesOf(results, 'hookrunner_call_attempts_total')).toEqual([]);
      expect(samplesOf(worker, 'hookrunner_calls_total')).toEqual([]);
    });

    it('runs every seconds histogram from 5 ms to 60 s', () => {
      const histograms: Array<[Exposition, string]> = [
        [worker, 'hookrunner_call_duration_seconds'],
        [worker, 'hookrunner_queue_wait_seconds'],
        [results, 'hookrunner_call_latency_seconds'],
        [results, 'hookrunner_state_merge_seconds'],
        [apiExp, 'hookrunner_http_request_duration_seconds'],
      ];
      for (const [exp, name] of histograms) {
        const first = samplesOf(exp, `${name}_bucket`)[0];
        expect({ name, found: Boolean(first) }).toEqual({ name, found: true });
        const { le: _le, ...series } = first.labels;
        const bounds = samplesOf(exp, `${name}_bucket`, series).map((s) => s.labels.le);
        const finite = bounds.filter((le) => le !== '+Inf').map(Number);
        expect({
          name,
          lowest: finite[0],
          highest: finite[finite.length - 1],
          last: bounds[bounds.length - 1],
        }).toEqual({ name, lowest: 0.005, highest: 60, last: '+Inf' });
        expect(finite).toEqual([...finite].sort((a, b) => a - b));
      }
    });

    it('labels API requests with route templates, never raw paths', () => {
      const requests = samplesOf(apiExp, 'hookrunner_http_requests_total');
      const routes = [...new Set(requests.map((s) => s.labels.route))];
      expect(routes).toEqual(
        expect.arrayContaining(['/v1/bots/:botId/webhooks', '/v1/bots/:botId/calls', '/v1/calls/:callId', 'unmatched']),
      );
      expect(
        total(apiExp, 'hookrunner_http_requests_total', {
          route: '/v1/bots/:botId/calls',
          method: 'POST',
          status: '2xx',
        }),
      ).toBe(6);
      expect(
        total(apiExp, 'hookrunner_http_requests_total', {
          route: '/v1/bots/:botId/webhooks',
          method: 'POST',
          status: '2xx',
        }),
      ).toBe(5);
      expect(
        total(apiExp, 'hookrunner_http_requests_total', { route: '/v1/calls/:callId', method: 'GET', status: '4xx' }),
      ).toBe(1);
      expect(
        total(apiExp, 'hookrunner_http_requests_total', { route: 'unmatched', method: 'GET', status: '4xx' }),
      ).toBe(1);
      for (const raw of [botId, rawCallId, unmatchedPath, 'no/such/route']) expect(apiExp.text).not.toContain(raw);
      for (const s of requests) expect(s.labels.status).toMatch(/^[1-5]xx$/);
      const durations = samplesOf(apiExp, 'hookrunner_http_request_duration_seconds_count');
      expect([...new Set(durations.map((s) => s.labels.route))].sort()).toEqual([...routes].sort());
    });

    it('puts no tenant data in any label on any process', () => {
      for (const exp of [worker, results, apiExp]) {
        for (const leaked of [botId, userId, hookPrefix, endpoint.url, `127.0.0.1:${endpoint.port}`]) {
          expect(exp.text).not.toContain(leaked);
        }
        for (const s of exp.samples.filter((x) => x.name.startsWith('hookrunner_'))) {
          // A raw status code (`404`) would be one series per code; `le` is a bucket bound, not a label value of ours.
          for (const [key, value] of Object.entries(s.labels))
            if (key !== 'le')
              expect({ key, value }).not.toEqual({ key, value: expect.stringMatching(/^https?:|^\d{3}$/) });
        }
      }
    });
  });

  // Last: it kills this file's Redis.
  it('answers /ready 503 while Redis is down, 200 again once it is back', async () => {
    await redis.kill('SIGKILL');
    for (const role of ROLES) {
      const down = await pollUntil(
        async () => {
          const ready = await statusOf(ports()[role], '/ready');
          return ready.status === 503 ? ready : undefined;
        },
        { timeoutMs: 10_000, message: `${role} /ready did not answer 503 with Redis down` },
      );
      expect(down.body).toMatchObject({ status: 'error', error: { redis: { status: 'down' } } });
      // Alive all the same: liveness must not restart a process over a Redis outage.
      expect((await statusOf(ports()[role], '/health')).status).toBe(200);
    }
    const workerDown = await scrape(apps.worker.port);
    expect(total(workerDown, 'hookrunner_redis_up')).toBe(0);

    await redis.restart();
    for (const role of ROLES) {
      await pollUntil(async () => (await statusOf(ports()[role], '/ready')).status === 200, {
        timeoutMs: 15_000,
        message: `${role} /ready did not answer 200 after Redis came back`,
      });
      const exp = await scrape(ports()[role]);
      expect({ role, up: total(exp, 'hookrunner_redis_up') }).toEqual({ role, up: 1 });
      expect({ role, reconnected: total(exp, 'hookrunner_redis_reconnects_total') >= 1 }).toEqual({
        role,
        reconnected: true,
      });
    }
  }, 45_000);
});
