import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reapOnExit } from '../support/cleanup';
import {
  ApiClient,
  createWebhook,
  enqueueCall,
  freePort,
  pollUntil,
  SplitDeployment,
  startSplitDeployment,
  TestEndpoint,
  uniqueId,
} from '../support';

/*
 * A real Prometheus (the Debian binary) scrapes the API, a worker and the results consumer, each
 * its own process, every second. What an SRE would query must hold: every target up, the call
 * counter equal to the calls made (in total and by outcome), a rate while calls flow, and a
 * latency quantile.
 *
 * deploy-config.spec.ts checks the shipped config, rules and dashboard queries; this file checks
 * that the running apps feed Prometheus what those queries expect.
 */

const SUCCEEDED = 150;
const FAILED = 50;
const CALLS = SUCCEEDED + FAILED;
const OK_REPLY = { responses: ['done'] };

type Role = 'api' | 'worker' | 'results';
const JOBS: Record<Role, string> = {
  api: 'hookrunner-api',
  worker: 'hookrunner-worker',
  results: 'hookrunner-results',
};

interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

interface RunningPrometheus {
  url: string;
  stop(): Promise<void>;
}

/** Starts `prometheus` on a free loopback port with `config` and an empty TSDB; resolves once /-/ready answers. */
async function startPrometheus(config: string): Promise<RunningPrometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'hookrunner-prometheus-'));
  const releaseDir = reapOnExit({ dir });
  writeFileSync(join(dir, 'prometheus.yml'), config);
  const cleanUp = () => {
    rmSync(dir, { recursive: true, force: true });
    releaseDir();
  };
  // A free port may be taken before Prometheus binds it: try another then.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const child = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const releasePid = child.pid ? reapOnExit({ pid: child.pid }) : () => undefined;
    let log = '';
    const append = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-20_000));
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    let exited = false;
    const gone = new Promise<void>((resolve) => {
      child.once('close', () => {
        exited = true;
        releasePid();
        resolve();
      });
      child.once('error', (err) => {
        append(Buffer.from(err.message));
        exited = true;
        resolve();
      });
    });
    const stopChild = async (): Promise<void> => {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    };
    try {
      const state = await pollUntil(
        async () => {
          if (exited) return 'exited';
          const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) });
          await res.arrayBuffer();
          return res.status === 200 ? 'ready' : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 100, message: `prometheus on ${url} did not become ready` },
      );
      if (state === 'exited') {
        await gone;
        if (/address already in use/i.test(log) && attempt < 5) continue;
        throw new Error(`prometheus exited before it was ready:\n${log}`);
      }
    } catch (error) {
      await stopChild();
      cleanUp();
      throw new Error(`${(error as Error).message}\n--- prometheus log ---\n${log}`);
    }
    return {
      url,
      stop: async () => {
        await stopChild();
        cleanUp();
      },
    };
  }
}

function scrapeConfig(targets: Record<Role, number>): string {
  const jobs = (Object.keys(JOBS) as Role[]).map(
    (role) =>
      `  - job_name: ${JOBS[role]}\n    metrics_path: /metrics\n` +
      `    static_configs:\n      - targets: ['127.0.0.1:${targets[role]}']\n`,
  );
  return (
    'global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n' +
    `scrape_configs:\n${jobs.join('')}`
  );
}

describe('observability: a real Prometheus scraping every process', () => {
  let deployment: SplitDeployment;
  let endpoint: TestEndpoint;
  let prometheus: RunningPrometheus | undefined;
  let client: ApiClient;
  const botId = uniqueId('prombot');

  /** An instant query; returns the result vector. */
  const query = async (promql: string, time?: number): Promise<VectorSample[]> => {
    const params = new URLSearchParams({ query: promql, ...(time === undefined ? {} : { time: String(time) }) });
    const res = await fetch(`${prometheus!.url}/api/v1/query?${params.toString()}`, {
      signal: AbortSignal.timeout(5_000),
    });
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: VectorSample[] };
    };
    if (body.status !== 'success') throw new Error(`${promql}: ${body.error}`);
    if (body.data!.resultType !== 'vector')
      throw new Error(`${promql}: expected a vector, got ${body.data!.resultType}`);
    return body.data!.result;
  };
  /** The single value of a query that aggregates to one series, or undefined when it has none. */
  const scalar = async (promql: string, time?: number): Promise<number | undefined> => {
    const result = await query(promql, time);
    return result.length === 1 ? Number(result[0].value[1]) : undefined;
  };
  const waitForValue = (promql: string, expected: number, timeoutMs = 20_000): Promise<number> =>
    pollUntil(
      async () => {
        const result = await query(promql);
        return result.length === 1 && Number(result[0].value[1]) === expected ? result[0].value[0] : undefined;
      },
      { timeoutMs, intervalMs: 250, message: `${promql} did not reach ${expected}` },
    );

  beforeAll(async () => {
    deployment = await startSplitDeployment({
      // Few workers and a slow endpoint keep calls flowing for seconds, long enough for rate() to see them.
      env: { RATE_LIMIT_PER_BOT: '0', WORKER_CONCURRENCY: '4', SHUTDOWN_GRACE_MS: '2000' },
    });
    ({ endpoint, api: client } = deployment);
    const [apiApp, worker, results] = [deployment.apps.api[0], deployment.apps.worker[0], deployment.apps.results[0]];
    prometheus = await startPrometheus(scrapeConfig({ api: apiApp.port, worker: worker.port, results: results.port }));

    endpoint.reply('/ok', 200, OK_REPLY, { delayMs: 100 });
    endpoint.reply('/missing', 404, { error: 'no such thing' }, { delayMs: 100 });
    await createWebhook(client, botId, {
      name: 'ok',
      method: 'POST',
      url: `${endpoint.url}/ok`,
      retry: { attempts: 1, backoffMs: 0 },
    });
    await createWebhook(client, botId, {
      name: 'missing',
      method: 'POST',
      url: `${endpoint.url}/missing`,
      retry: { attempts: 1, backoffMs: 0 },
    });
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await deployment?.stop();
  }, 30_000);

  it('scrapes every process', async () => {
    const up = await pollUntil(
      async () => {
        const result = await query('up');
        return result.length === 3 && result.every((s) => s.value[1] === '1') ? result : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 250, message: 'not every target was up' },
    );
    expect(up.map((s) => s.metric.job).sort()).toEqual(Object.values(JOBS).sort());
    // The series the dashboard starts from are there before any call.
    expect(await scalar('count(hookrunner_redis_up == 1)')).toBe(3);
    expect(await query('hookrunner_queue_jobs{state="waiting"}')).not.toEqual([]);
    expect((await query('hookrunner_queue_jobs')).map((s) => s.metric.job).every((job) => job === JOBS.api)).toBe(true);
  });

  it('counts the calls made, sees their rate while they flow, and estimates their latency', async () => {
    // One call of each outcome first, so the counter's series exist before the rest arrive:
    // rate() measures increases between samples, and a series' first sample is not one.
    await enqueueCall(client, botId, { webhook: 'ok', userId: 'u-warm' });
    await enqueueCall(client, botId, { webhook: 'missing', userId: 'u-warm' });
    const warmedAt = await waitForValue('sum(hookrunner_calls_total)', 2);

    const rest = Array.from({ length: CALLS - 2 }, (_, i) => ({
      webhook: i % 4 === 3 ? 'missing' : 'ok',
      userId: `u-${i}`,
    }));
    const batch = await client.post(`/v1/bots/${botId}/calls/batch`, { calls: rest });
    expect(batch.status).toBe(202);
    expect(batch.body.calls.filter((c: { callId?: string }) => c.callId)).toHaveLength(CALLS - 2);

    const flowing = await pollUntil(
      async () => {
        const rate = await scalar('sum(rate(hookrunner_calls_total[15s]))');
        const p99 = await scalar(
          'histogram_quantile(0.99, sum by (le) (rate(hookrunner_call_latency_seconds_bucket[15s])))',
        );
        if (!(rate! > 0) || !Number.isFinite(p99)) return undefined;
        return { rate, p99, countedSoFar: await scalar('sum(hookrunner_calls_total)') };
      },
      { timeoutMs: 20_000, intervalMs: 250, message: 'no call rate or latency quantile while calls flowed' },
    );
    expect(flowing.rate).toBeGreaterThan(0);
    expect(flowing.p99).toBeGreaterThan(0);
    expect(flowing.p99).toBeLessThanOrEqual(60);
    expect(flowing.countedSoFar).toBeLessThan(CALLS);

    const doneAt = await waitForValue('sum(hookrunner_calls_total)', CALLS, 30_000);
    const byOutcome = Object.fromEntries(
      (await query('sum by (outcome) (hookrunner_calls_total)')).map((s) => [s.metric.outcome, Number(s.value[1])]),
    );
    expect(byOutcome).toEqual({ succeeded: SUCCEEDED, failed: FAILED });
    const byError = Object.fromEntries(
      (await query('sum by (error_type) (hookrunner_calls_total)')).map((s) => [
        s.metric.error_type,
        Number(s.value[1]),
      ]),
    );
    expect(byError).toEqual({ none: SUCCEEDED, http_status: FAILED });
    // What the counter gained since the warm-up was scraped is exactly the batch.
    expect(await scalar(`sum(hookrunner_calls_total) - sum(hookrunner_calls_total @ ${warmedAt})`, doneAt)).toBe(
      CALLS - 2,
    );
    // Each target is scraped on its own schedule: the worker's last scrape may predate its last attempt.
    await waitForValue('sum(hookrunner_events_published_total)', CALLS, 10_000);
    await waitForValue('sum(hookrunner_call_attempts_total)', CALLS, 10_000);

    const median = await scalar('histogram_quantile(0.5, sum by (le) (hookrunner_call_latency_seconds_bucket))');
    expect(Number.isFinite(median)).toBe(true);
    expect(median).toBeGreaterThan(0);
    expect(await scalar('sum(hookrunner_call_latency_seconds_count)')).toBe(CALLS);
  }, 60_000);
});
