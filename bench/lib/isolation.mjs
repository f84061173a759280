// The "isolation" scenario: a quiet bot at a steady rate alone, then while another bot floods
// (a) an endpoint that never answers and (b) one answering in 200 ms, each flood at its own origin.
// Run for a pair of bots in different partitions and a pair sharing one. Also: how long the dead
// flood takes to drain, with the circuit breaker and without it (CIRCUIT_MIN_ATTEMPTS=0).
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequire } from 'node:module';
import { answers200, freePort, startChild, waitReady } from './processes.mjs';
import { percentile, summarize } from './stats.mjs';

/** The isolation settings at their defaults (the other scenarios raise the bulkhead). */
const DEFAULTS = { MAX_IN_FLIGHT_PER_ORIGIN: '20' };

/** The target: the quiet bot's p99 during a flood ≤ 2 × its p99 alone + 50 ms. */
export const isolationTarget = (aloneP99) => 2 * aloneP99 + 50;

/**
 * opts: { dist, redis (bench/lib startRedis result), hr (targets.mjs hookrunner), quietRate,
 * quietSeconds, deadCalls, slowCalls, partitions, log, noBreaker }
 */
export async function isolationRun(opts, run) {
  const { partitionOf } = createRequire(import.meta.url)(`${opts.dist}/libs/isolation/src/partition.js`);
  const endpoints = await startEndpoints();
  const events = await channelEvents(opts.redis.client());
  try {
    const pairs = [
      { label: 'different partitions', ...pickPair(partitionOf, opts.partitions, false, run) },
      { label: 'same partition', ...pickPair(partitionOf, opts.partitions, true, run) },
    ];
    const result = { pairs: [] };
    for (const pair of pairs) {
      // A fresh worker per pair: its in-memory view of the circuits and bulkheads starts empty.
      await opts.hr.restartWorker(DEFAULTS);
      await opts.redis.client().flushall();
      await defineWebhooks(opts.hr, pair, endpoints);
      // Unrecorded: warms the new worker (JIT, connections, scripts) before anything is measured.
      await quietPhase({ ...opts, quietSeconds: Math.min(opts.quietSeconds, 5) }, events, pair.quiet, 'warm');
      const alone = await quietPhase(opts, events, pair.quiet, 'alone');
      opts.log(`isolation ${run} ${pair.label}: alone p50 ${alone.p50.toFixed(1)} p99 ${alone.p99.toFixed(1)} ms`);
      const dead = await floodPhase(opts, events, pair, 'dead', opts.deadCalls);
      opts.log(
        `isolation ${run} ${pair.label}: dead flood p50 ${dead.p50.toFixed(1)} p99 ${dead.p99.toFixed(1)} ms ` +
          `(202 p99 ${dead.enqueueP99.toFixed(1)}; slowest ${dead.slowest.join(', ')}), ` +
          `drained in ${dead.drainS.toFixed(1)} s (${dead.floodFailed} failed: ${dead.failureTypes})`,
      );
      const slow = await floodPhase(opts, events, pair, 'slow', opts.slowCalls);
      opts.log(
        `isolation ${run} ${pair.label}: 200 ms flood p50 ${slow.p50.toFixed(1)} p99 ${slow.p99.toFixed(1)} ms ` +
          `(202 p99 ${slow.enqueueP99.toFixed(1)}; slowest ${slow.slowest.join(', ')}), ` +
          `drained in ${slow.drainS.toFixed(1)} s`,
      );
      result.pairs.push({
        label: pair.label,
        quiet: pair.quiet,
        flood: pair.flood,
        partitions: pair.partitions,
        alone,
        dead,
        slow,
      });
    }
    if (opts.noBreaker) {
      await opts.hr.restartWorker({ ...DEFAULTS, CIRCUIT_MIN_ATTEMPTS: '0' });
      await opts.redis.client().flushall();
      const pair = pairs[0];
      await defineWebhooks(opts.hr, pair, endpoints);
      const t0 = performance.now();
      const drained = events.expect(pair.flood, opts.deadCalls, 3_600_000);
      await enqueueFlood(opts.hr, pair.flood, 'dead', opts.deadCalls);
      const { lastAt } = await drained;
      result.deadDrainWithoutBreakerS = (lastAt - t0) / 1000;
      opts.log(
        `isolation ${run}: dead flood without the breaker drained in ${result.deadDrainWithoutBreakerS.toFixed(1)} s`,
      );
      await opts.hr.restartWorker(DEFAULTS);
    }
    return result;
  } finally {
    await events.close();
    await Promise.all(Object.values(endpoints).map((e) => e.child.stop()));
  }
}

/** Medians over runs, and the verdict per pair and flood. */
export function summarizeIsolation(runs) {
  if (runs.length === 0) return undefined;
  const pairs = runs[0].pairs.map((pair, i) => {
    const of = (pick) => summarize(runs.map((r) => pick(r.pairs[i])));
    const alone = { p50: of((p) => p.alone.p50), p99: of((p) => p.alone.p99) };
    const target = isolationTarget(alone.p99.median);
    const flood = (name) => {
      const p99 = of((p) => p[name].p99);
      return { p50: of((p) => p[name].p50), p99, drainS: of((p) => p[name].drainS), met: p99.median <= target };
    };
    return { label: pair.label, alone, dead: flood('dead'), slow: flood('slow'), targetP99Ms: target };
  });
  const without = runs.map((r) => r.deadDrainWithoutBreakerS).filter((x) => x !== undefined);
  return { pairs, deadDrainWithoutBreakerS: without.length ? summarize(without) : undefined };
}

export function renderIsolation(summary) {
  if (!summary) return '';
  const ms = (s) => `${s.median.toFixed(1)} [${s.min.toFixed(0)}–${s.max.toFixed(0)}]`;
  const lines = [
    'isolation: the quiet bot (20 calls/s) alone and during each flood; ms, median [min–max] over runs',
    '| pair | alone p50 | alone p99 | dead flood p50 | dead flood p99 | 200 ms flood p50 | 200 ms flood p99 | ' +
      'target p99 | met | dead flood drained (s) | 200 ms flood drained (s) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...summary.pairs.map((p) => {
      const missed = [!p.dead.met && 'dead', !p.slow.met && '200 ms'].filter(Boolean).join(', ');
      const met = p.dead.met && p.slow.met ? 'yes' : `no (${missed})`;
      return (
        `| ${p.label} | ${ms(p.alone.p50)} | ${ms(p.alone.p99)} | ${ms(p.dead.p50)} | ${ms(p.dead.p99)} | ` +
        `${ms(p.slow.p50)} | ${ms(p.slow.p99)} | ≤ ${p.targetP99Ms.toFixed(0)} | ${met} | ` +
        `${p.dead.drainS.median.toFixed(1)} | ${p.slow.drainS.median.toFixed(1)} |`
      );
    }),
  ];
  if (summary.deadDrainWithoutBreakerS)
    lines.push(`dead flood drained without the breaker: ${summary.deadDrainWithoutBreakerS.median.toFixed(1)} s`);
  return lines.join('\n');
}

/** Two bot ids, in one partition or in two. */
function pickPair(partitionOf, partitions, same, run) {
  const flood = `iso-flood-${run}-${same ? 's' : 'd'}`;
  const want = (p) => (same ? p === partitionOf(flood, partitions) : p !== partitionOf(flood, partitions));
  for (let i = 0; ; i++) {
    const quiet = `iso-quiet-${run}-${same ? 's' : 'd'}-${i}`;
    if (want(partitionOf(quiet, partitions)))
      return { quiet, flood, partitions: [partitionOf(quiet, partitions), partitionOf(flood, partitions)] };
  }
}

/** Three endpoint processes, so the quiet bot and each flood have their own origin. */
async function startEndpoints() {
  const script = fileURLToPath(new URL('../endpoint.mjs', import.meta.url));
  const start = async (name) => {
    const port = await freePort();
    const child = startChild(`endpoint ${name}`, process.execPath, [script], {
      env: { PORT: String(port), SLOW_MS: '200' },
    });
    await waitReady(child, () => answers200(`http://127.0.0.1:${port}/health`), 'an answer');
    return { child, url: `http://127.0.0.1:${port}` };
  };
  const [quiet, dead, slow] = await Promise.all([start('quiet'), start('dead'), start('slow')]);
  return { quiet, dead, slow };
}

async function defineWebhooks(hr, pair, endpoints) {
  const define = async (botId, body) => {
    const res = await fetch(`http://127.0.0.1:${hr.apps.api.port}/v1/bots/${botId}/webhooks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'POST', retry: { attempts: 1, backoffMs: 0 }, ...body }),
    });
    if (res.status !== 201) throw new Error(`creating webhook ${body.name}: HTTP ${res.status} ${await res.text()}`);
  };
  await define(pair.quiet, { name: 'fast', url: `${endpoints.quiet.url}/fast`, timeoutMs: 10_000 });
  await define(pair.flood, { name: 'dead', url: `${endpoints.dead.url}/never`, timeoutMs: 3_000 });
  await define(pair.flood, { name: 'slow', url: `${endpoints.slow.url}/slow`, timeoutMs: 10_000 });
}

async function enqueueFlood(hr, botId, webhook, n, batch = Number(process.env.ISOLATION_FLOOD_BATCH ?? 1_000)) {
  for (let from = 0; from < n; from += batch) {
    const calls = Array.from({ length: Math.min(batch, n - from) }, (_, i) => ({
      webhook,
      userId: `f${(from + i) % 500}`,
    }));
    const res = await fetch(`http://127.0.0.1:${hr.apps.api.port}/v1/bots/${botId}/calls/batch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ calls }),
    });
    const text = await res.text();
    if (res.status !== 202 || text.includes('"error"'))
      throw new Error(`flood batch: HTTP ${res.status} ${text.slice(0, 300)}`);
  }
}

/** The flood enqueued while the quiet bot sends for quietSeconds; then waits for the flood to drain. */
async function floodPhase(opts, events, pair, webhook, n) {
  const t0 = performance.now();
  const drained = events.expect(pair.flood, n, 3_600_000);
  const [quiet] = await Promise.all([
    quietPhase(opts, events, pair.quiet, webhook),
    enqueueFlood(opts.hr, pair.flood, webhook, n),
  ]);
  const { lastAt, failed, types } = await drained;
  return { ...quiet, drainS: (lastAt - t0) / 1000, floodFailed: failed, failureTypes: JSON.stringify(types) };
}

/** `quietRate` calls/s for `quietSeconds` (open loop); latency = event received − request sent. */
async function quietPhase(opts, events, botId, tag) {
  const total = Math.round(opts.quietRate * opts.quietSeconds);
  const sentAt = new Float64Array(total);
  const latencies = [];
  const acks = [];
  const worst = [];
  const done = events.expect(botId, total, 600_000, (message, at) => {
    const index = new RegExp(`"userId":"${tag}(\\d+)"`).exec(message);
    if (index) {
      latencies.push(at - sentAt[Number(index[1])]);
      worst.push({ sentS: (sentAt[Number(index[1])] - started) / 1000, ms: at - sentAt[Number(index[1])] });
    }
  });
  const started = performance.now();
  let sent = 0;
  let error;
  while (sent < total && !error) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * opts.quietRate) + 1);
    while (sent < due) {
      const i = sent++;
      sentAt[i] = performance.now();
      opts.hr.enqueueOne(botId, `${tag}${i}`, 'fast').then(
        () => acks.push(performance.now() - sentAt[i]),
        (err) => (error ??= err),
      );
    }
    await sleep(5);
  }
  if (error) throw error;
  const { failed } = await done;
  if (failed > 0) throw new Error(`${failed} of the quiet bot's calls failed`);
  const sorted = latencies.sort((a, b) => a - b);
  const ackSorted = acks.sort((a, b) => a - b);
  // Where the slowest calls fell (seconds after the phase began) and how much of it was the 202.
  const slowest = worst
    .sort((a, b) => b.ms - a.ms)
    .slice(0, 5)
    .map((w) => `${w.ms.toFixed(0)} ms at ${w.sentS.toFixed(1)} s`);
  return {
    calls: total,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1],
    enqueueP50: percentile(ackSorted, 0.5),
    enqueueP99: percentile(ackSorted, 0.99),
    slowest,
  };
}

/** Per-channel event counting on one PSUBSCRIBE connection. */
async function channelEvents(client) {
  const waiting = new Map();
  client.on('pmessage', (_pattern, channel, message) => {
    const w = waiting.get(channel.slice('hookrunner:events:'.length));
    if (!w) return;
    const at = performance.now();
    w.received++;
    if (message.includes('"type":"call.failed"')) {
      w.failed++;
      const type = /"error":\{"type":"([a-z_]+)"/.exec(message)?.[1] ?? '?';
      w.types[type] = (w.types[type] ?? 0) + 1;
    }
    w.onEvent?.(message, at);
    if (w.received === w.count) {
      waiting.delete(channel.slice('hookrunner:events:'.length));
      clearTimeout(w.timer);
      w.resolve({ lastAt: at, failed: w.failed, types: w.types });
    }
  });
  await client.psubscribe('hookrunner:events:*');
  return {
    expect(botId, count, timeoutMs, onEvent) {
      return new Promise((resolve, reject) => {
        const w = { count, received: 0, failed: 0, types: {}, onEvent, resolve };
        w.timer = setTimeout(() => {
          waiting.delete(botId);
          reject(new Error(`${w.received} of ${count} events of ${botId} within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        waiting.set(botId, w);
      });
    },
    close: () => client.quit(),
  };
}
