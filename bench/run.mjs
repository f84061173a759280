// `npm run bench [-- options]`: Hookrunner's whole pipeline against the raw baseline, on one box.
// Starts its own redis-server, endpoint and processes, prints a table, writes bench/results.json.
// Options: see USAGE below. `--smoke` is CI's keep-it-working run, not a measurement.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { openEvents } from './lib/events.mjs';
import {
  answers200,
  freePort,
  snapshotBuild,
  startChild,
  startRedis,
  stopAll,
  unexpectedExits,
  waitReady,
} from './lib/processes.mjs';
import { renderTable, summarizeResults } from './lib/report.mjs';
import { batched, latency, measureRun, single, waited } from './lib/scenarios.mjs';
import { baseline, hookrunner } from './lib/targets.mjs';
import { isolationRun, renderIsolation, summarizeIsolation } from './lib/isolation.mjs';
import { topOfProfiles } from './profile-top.mjs';

const USAGE = `npm run bench -- [options]
  --smoke                 tiny run for CI: 200 calls, 1 run, 2 s of latency
  --n <calls>             calls per throughput run (default 50000)
  --runs <k>              runs per scenario (default 3)
  --batch <size>          calls per POST /calls/batch (default 500)
  --connections <c>       concurrent senders for POST /calls (default 64)
  --rate <calls/s>        latency scenario rate (default 500)
  --duration <s>          latency scenario duration (default 20)
  --slow-ms <ms>          slow endpoint delay (default 200)
  --high-concurrency <c>  the high WORKER_CONCURRENCY of the slow scenario (default 2000)
  --waves <k>             slow scenario calls = k × concurrency, at most --n (default 20)
  --wait-ms <ms>          waitMs of the waited scenario (default 10000)
  --only <list>           scenarios to run, e.g. 1,3 or isolation (default 1,2,3,4,5,isolation)
  --quiet-seconds <s>     isolation: how long the quiet bot sends in each phase (default 20)
  --dead-calls <n>        isolation: calls of the flood to a server that never answers (default 3000)
  --slow-calls <n>        isolation: calls of the flood to a server answering in 200 ms (default 10000)
  --skip-no-breaker       isolation: do not measure the dead flood's drain without the breaker
  --cluster               instead: throughput over 30 bots on one Redis, then on a 3-master cluster
  --cpu-prof              profile the Hookrunner apps; summaries printed, files in bench/profiles/
  --out <file>            results file (default bench/results.json)`;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DEFAULT_WORKER_CONCURRENCY = 100;

function options() {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean' },
      help: { type: 'boolean' },
      'cpu-prof': { type: 'boolean' },
      n: { type: 'string' },
      runs: { type: 'string' },
      batch: { type: 'string' },
      connections: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      'slow-ms': { type: 'string' },
      'high-concurrency': { type: 'string' },
      waves: { type: 'string' },
      only: { type: 'string' },
      out: { type: 'string' },
      'wait-ms': { type: 'string' },
      'quiet-seconds': { type: 'string' },
      'dead-calls': { type: 'string' },
      'slow-calls': { type: 'string' },
      'skip-no-breaker': { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const smoke = values.smoke ?? false;
  const int = (name, normal, small) => {
    const raw = values[name] ?? String(smoke ? small : normal);
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${raw}`);
    return value;
  };
  return {
    smoke,
    n: int('n', 50_000, 200),
    runs: int('runs', 3, 1),
    batch: int('batch', 500, 50),
    connections: int('connections', 64, 16),
    rate: int('rate', 500, 500),
    durationS: int('duration', 20, 2),
    slowMs: int('slow-ms', 200, 200),
    highConcurrency: int('high-concurrency', 2_000, 500),
    waves: int('waves', 20, 1),
    waitMs: int('wait-ms', 10_000, 10_000),
    only: new Set(
      (values.only ?? '1,2,3,4,5,isolation')
        .split(',')
        .map((s) => (/^\d+$/.test(s.trim()) ? Number(s.trim()) : s.trim())),
    ),
    quietSeconds: int('quiet-seconds', 20, 2),
    deadCalls: int('dead-calls', 3_000, 30),
    slowCalls: int('slow-calls', 10_000, 100),
    noBreaker: !(values['skip-no-breaker'] ?? false),
    cpuProf: values['cpu-prof'] ?? false,
    out: values.out ?? `${ROOT}bench/results.json`,
  };
}

async function main() {
  const opts = options();
  const started = Date.now();
  const profileDir = `${ROOT}bench/profiles/${new Date().toISOString().replace(/[:.]/g, '-')}`;
  if (opts.cpuProf) mkdirSync(profileDir, { recursive: true });
  const log = (line) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);

  const dist = snapshotBuild(ROOT);
  const redis = await startRedis();
  const endpointPort = await freePort();
  const endpoint = startChild('endpoint', process.execPath, [fileURLToPath(new URL('endpoint.mjs', import.meta.url))], {
    env: { PORT: String(endpointPort), SLOW_MS: String(opts.slowMs) },
  });
  await waitReady(endpoint, () => answers200(`http://127.0.0.1:${endpointPort}/health`), 'an answer');
  const admin = redis.client();
  const events = await openEvents(redis.client());
  const ctx = { admin, events, pids: { redis: redis.server.pid, endpoint: endpoint.pid } };
  const redisVersion = /redis_version:(\S+)/.exec(await admin.info('server'))[1];

  const hr = hookrunner({
    dist,
    redisUrl: redis.url,
    endpointPort,
    connections: opts.connections,
    nodeArgs: opts.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  });
  const base = baseline({
    redisUrl: redis.url,
    endpointPort,
    producerConnection: redis.client(),
    concurrency: DEFAULT_WORKER_CONCURRENCY,
  });
  log(
    'starting Hookrunner (api, worker, results) and the baseline worker; ' +
      `redis-server ${redisVersion} on :${redis.port}`,
  );
  await Promise.all([hr.start(), base.start()]);

  // Generous: a pipeline at 1,000 calls/s would still finish in time.
  const throughputTimeout = 60_000 + opts.n;
  const raw = {
    batched: { hookrunner: [], baseline: [] },
    single: { hookrunner: [] },
    latency: { hookrunner: [], baseline: [] },
    waited: [],
    slow: [],
    isolation: [],
  };
  const record = async (list, target, label, run, body, describe) => {
    const result = await measureRun(ctx, target, label, run, body);
    list.push(result);
    log(`${label} ${target.name} run ${run}: ${describe(result)}`);
  };
  const perSec = (r) =>
    `${Math.round(r.callsPerSec)} calls/s (enqueue ${Math.round(r.enqueuePerSec)}/s, ${r.failed} failed)`;

  // One unrecorded round warms both pipelines (JIT, connections, Lua script cache).
  const warmN = Math.min(opts.n, 2_000);
  for (const target of [hr, base]) {
    await measureRun(
      ctx,
      target,
      'warmup',
      0,
      batched(ctx, target, { n: warmN, batch: opts.batch, parallel: 4, timeoutMs: throughputTimeout }),
    );
  }

  for (let run = 1; run <= opts.runs && opts.only.has(1); run++) {
    for (const target of [hr, base]) {
      const body = batched(ctx, target, { n: opts.n, batch: opts.batch, parallel: 4, timeoutMs: throughputTimeout });
      await record(raw.batched[target.name], target, 'batched', run, body, perSec);
    }
  }
  for (let run = 1; run <= opts.runs && opts.only.has(2); run++) {
    const body = single(ctx, hr, { n: opts.n, connections: opts.connections, timeoutMs: throughputTimeout });
    await record(raw.single.hookrunner, hr, 'single', run, body, perSec);
  }
  for (let run = 1; run <= opts.runs && opts.only.has(3); run++) {
    for (const target of [hr, base]) {
      const body = latency(ctx, target, {
        rate: opts.rate,
        durationS: opts.durationS,
        timeoutMs: opts.durationS * 1000 + 60_000,
      });
      await record(
        raw.latency[target.name],
        target,
        'latency',
        run,
        body,
        (r) =>
          `p50 ${r.p50.toFixed(1)} p90 ${r.p90.toFixed(1)} p99 ${r.p99.toFixed(1)} max ${r.max.toFixed(1)} ms ` +
          `at ${Math.round(r.sentPerSec)}/s (${r.failed} failed)`,
      );
    }
  }
  for (let run = 1; run <= opts.runs && opts.only.has(5); run++) {
    const { rate, durationS, waitMs } = opts;
    const body = waited(ctx, hr, { rate, durationS, waitMs, timeoutMs: durationS * 1000 + 60_000 });
    const pair = ({ p50, p99 }) => `p50 ${p50.toFixed(1)} p99 ${p99.toFixed(1)}`;
    await record(
      raw.waited,
      hr,
      'waited',
      run,
      body,
      (r) => `event ${pair(r.event)}, reply ${pair(r.reply)} ms, ${r.notInTime} not in time (${r.failed} failed)`,
    );
  }
  // The baseline takes no part in the slow scenario: free its CPU and memory.
  await base.stop();
  if (opts.only.has(4)) {
    for (const concurrency of [DEFAULT_WORKER_CONCURRENCY, opts.highConcurrency]) {
      // A fresh worker per concurrency, so its peak RSS is this scenario's own.
      await hr.restartWorker(
        concurrency === DEFAULT_WORKER_CONCURRENCY ? {} : { WORKER_CONCURRENCY: String(concurrency) },
      );
      const n = opts.smoke ? opts.n : Math.min(opts.n, concurrency * opts.waves);
      const entry = { concurrency, calls: n, runs: [] };
      raw.slow.push(entry);
      for (let run = 1; run <= opts.runs; run++) {
        const body = batched(ctx, hr, {
          n,
          batch: opts.batch,
          parallel: 4,
          webhook: 'slow',
          timeoutMs: 60_000 + (n / concurrency) * opts.slowMs * 4,
          workerPid: hr.apps.worker.pid,
        });
        await record(
          entry.runs,
          hr,
          `slow-c${concurrency}`,
          run,
          body,
          (r) => `${perSec(r)}, worker peak RSS ${(r.workerPeakRss / 2 ** 20).toFixed(0)} MB`,
        );
      }
    }
  }
  for (let run = 1; run <= opts.runs && opts.only.has('isolation'); run++) {
    const isolationOpts = {
      dist,
      redis,
      hr,
      quietRate: 20,
      quietSeconds: opts.quietSeconds,
      deadCalls: opts.deadCalls,
      slowCalls: opts.slowCalls,
      partitions: 4,
      log,
      noBreaker: opts.noBreaker,
    };
    raw.isolation.push(await isolationRun(isolationOpts, run));
  }
  await hr.stop();
  await events.close();
  await redis.stop();
  await stopAll();

  const machine = {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    redis: redisVersion,
    platform: `${process.platform} ${process.arch}`,
  };
  const summary = { ...summarizeResults(raw, opts), isolation: summarizeIsolation(raw.isolation) };
  const asRun = { ...opts, only: [...opts.only] };
  writeFileSync(
    opts.out,
    `${JSON.stringify({ date: new Date().toISOString(), machine, options: asRun, summary, raw }, null, 2)}\n`,
  );
  console.log(`\n${renderTable(summary, machine, opts)}\n`);
  if (summary.isolation) console.log(`${renderIsolation(summary.isolation)}\n`);
  console.log(`results: ${opts.out} (${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
  if (opts.cpuProf) {
    const roleOf = new Map(hr.started.map(({ role, pid }) => [pid, role]));
    console.log(`\n${topOfProfiles(profileDir, (pid) => `hookrunner ${roleOf.get(pid) ?? '?'} (pid ${pid})`)}`);
  }
  // A call that failed means a broken pipeline, not a slow one: CI's smoke run must see it.
  const failed = [
    ...Object.values(raw.batched),
    ...Object.values(raw.single),
    ...Object.values(raw.latency),
    raw.waited,
    ...raw.slow.map((s) => s.runs),
  ]
    .flat()
    .reduce((sum, r) => sum + r.failed, 0);
  if (failed > 0) console.error(`bench: ${failed} calls failed`);
  return failed > 0 ? 1 : 0;
}

let stopping = false;
const abort = async (reason) => {
  if (stopping) process.exit(1);
  stopping = true;
  console.error(reason instanceof Error ? `bench failed: ${reason.stack ?? reason.message}` : `bench: ${reason}`);
  for (const exit of unexpectedExits()) console.error(`\n${exit}`);
  await stopAll().catch(() => undefined);
  process.exit(1);
};
process.on('SIGINT', () => abort('interrupted'));
process.on('SIGTERM', () => abort('terminated'));
if (process.argv.includes('--cluster')) await import('./cluster.mjs');
else main().then((code) => process.exit(code), abort);
