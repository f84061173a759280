// Turns the runs into medians, ratios and verdicts against the targets, and prints the table.
import { summarize } from './stats.mjs';

const MB = 2 ** 20;
const TARGETS = {
  batchedRatio: 0.8,
  singleCallsPerSec: 4_000,
  latencyP50Ms: 3,
  latencyP99Ms: 15,
  waitAddedMs: 1,
  slowShare: 0.9,
  slowMaxInFlight: 2_000,
  workerRssMB: 250,
};

const stat = (runs, pick) => summarize(runs.map(pick));
const ratio = (a, b) => (a && b ? a.median / b.median : NaN);

/** CPU ms each process spent per 1,000 calls, median over runs. */
function cpuPerThousand(runs) {
  if (runs.length === 0) return undefined;
  const names = Object.keys(runs[0].cpuMs);
  return Object.fromEntries(names.map((name) => [name, stat(runs, (r) => (r.cpuMs[name] / r.calls) * 1000).median]));
}

/** Redis and worker memory at the end of each run, in run order: flat means no growth. */
function memoryTrend(runs) {
  return {
    redisUsedMemoryAfterFlushMB: runs.map((r) => +(r.redis.usedMemoryAfterFlush / MB).toFixed(2)),
    redisUsedMemoryEndMB: runs.map((r) => +(r.redis.usedMemoryEnd / MB).toFixed(1)),
    redisKeysEnd: runs.map((r) => r.redis.keysEnd),
    redisBytesPerCall: runs.map((r) => Math.round((r.redis.usedMemoryEnd - r.redis.usedMemoryAfterFlush) / r.calls)),
    workerHeapUsedMB: runs.map((r) => +(r.worker.heapUsed / MB).toFixed(1)),
    workerRssMB: runs.map((r) => +(r.worker.rss / MB).toFixed(1)),
  };
}

const failedIn = (runs) => runs.reduce((sum, r) => sum + (r.failed ?? 0), 0);
const failure = (runs) => runs.find((r) => r.firstFailure)?.firstFailure;
/** Share of the machine's CPU other programs used during the runs (median). */
const otherLoad = (runs) => stat(runs, (r) => r.otherLoad).median;

export function summarizeResults(raw, opts) {
  const b = raw.batched;
  const lat = raw.latency;
  const latencyOf = (runs) => Object.fromEntries(['p50', 'p90', 'p99', 'max'].map((k) => [k, stat(runs, (r) => r[k])]));
  const summary = {
    targets: TARGETS,
    batched: {
      hookrunner: stat(b.hookrunner, (r) => r.callsPerSec),
      baseline: stat(b.baseline, (r) => r.callsPerSec),
      hookrunnerEnqueue: stat(b.hookrunner, (r) => r.enqueuePerSec),
      baselineEnqueue: stat(b.baseline, (r) => r.enqueuePerSec),
    },
    single: {
      hookrunner: stat(raw.single.hookrunner, (r) => r.callsPerSec),
      hookrunnerEnqueue: stat(raw.single.hookrunner, (r) => r.enqueuePerSec),
    },
    latency: {
      hookrunner: latencyOf(lat.hookrunner),
      baseline: latencyOf(lat.baseline),
      sentPerSec: stat(lat.hookrunner, (r) => r.sentPerSec),
    },
    waited: {
      eventP50: stat(raw.waited, (r) => r.event.p50),
      eventP99: stat(raw.waited, (r) => r.event.p99),
      replyP50: stat(raw.waited, (r) => r.reply.p50),
      replyP99: stat(raw.waited, (r) => r.reply.p99),
      addedP50: stat(raw.waited, (r) => r.addedP50),
      addedP99: stat(raw.waited, (r) => r.addedP99),
      notInTime: raw.waited.reduce((sum, r) => sum + r.notInTime, 0),
      failed: failedIn(raw.waited),
    },
    slow: raw.slow.map(({ concurrency, calls, runs }) => {
      const ideal = Math.min(concurrency, TARGETS.slowMaxInFlight) / (opts.slowMs / 1000);
      return {
        concurrency,
        calls,
        callsPerSec: stat(runs, (r) => r.callsPerSec),
        ideal,
        peakRssMB: stat(runs, (r) => r.workerPeakRss / MB),
        failed: failedIn(runs),
        firstFailure: failure(runs),
        otherLoad: otherLoad(runs),
      };
    }),
    failed: {
      batched: {
        hookrunner: failedIn(b.hookrunner),
        baseline: failedIn(b.baseline),
        firstFailure: failure([...b.hookrunner, ...b.baseline]),
      },
      single: { hookrunner: failedIn(raw.single.hookrunner), firstFailure: failure(raw.single.hookrunner) },
      latency: {
        hookrunner: failedIn(lat.hookrunner),
        baseline: failedIn(lat.baseline),
        firstFailure: failure([...lat.hookrunner, ...lat.baseline]),
      },
    },
    otherLoad: {
      batched: otherLoad([...b.hookrunner, ...b.baseline]),
      single: otherLoad(raw.single.hookrunner),
      latency: otherLoad([...lat.hookrunner, ...lat.baseline]),
    },
    cpuMsPer1000Calls: {
      batchedHookrunner: cpuPerThousand(b.hookrunner),
      batchedBaseline: cpuPerThousand(b.baseline),
      singleHookrunner: cpuPerThousand(raw.single.hookrunner),
    },
    memory: {
      batchedHookrunner: memoryTrend(b.hookrunner),
      batchedBaseline: memoryTrend(b.baseline),
      singleHookrunner: memoryTrend(raw.single.hookrunner),
      latencyHookrunner: memoryTrend(lat.hookrunner),
      latencyBaseline: memoryTrend(lat.baseline),
    },
  };
  summary.batched.ratio = ratio(summary.batched.hookrunner, summary.batched.baseline);
  summary.latency.ratio = Object.fromEntries(
    ['p50', 'p90', 'p99', 'max'].map((k) => [k, ratio(summary.latency.hookrunner[k], summary.latency.baseline[k])]),
  );
  return summary;
}

const int = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '—');
const ms = (v) => (Number.isFinite(v) ? v.toFixed(1) : '—');
const cell = (s, fmt) => (s && s.runs ? `${fmt(s.median)} [${fmt(s.min)}–${fmt(s.max)}]` : '—');
const verdict = (ok) => (typeof ok === 'string' ? ok : ok === undefined ? '' : ok ? 'met' : 'MISSED');
/** A scenario whose calls failed measured nothing useful: say so instead of met/missed. */
const unlessFailed = (failed, ok) => (failed > 0 ? `INVALID: ${failed} calls failed` : ok);
const pct = (v) => (Number.isFinite(v) ? `${Math.round(v * 100)}%` : '—');

export function renderTable(summary, machine, opts) {
  const t = summary.targets;
  const rows = [];
  const row = (scenario, metric, hr, base, r, target, ok) =>
    rows.push([scenario, metric, hr, base, r, target, verdict(ok)]);
  const ran = (s) => s && s.runs > 0;
  const { batched: b, single: s, latency: l, failed: f } = summary;
  const failedB = f.batched.hookrunner + f.batched.baseline;
  const failedL = f.latency.hookrunner + f.latency.baseline;

  if (ran(b.hookrunner)) {
    row(
      `1 batched (${opts.n} calls, batches of ${opts.batch})`,
      'calls/s',
      cell(b.hookrunner, int),
      cell(b.baseline, int),
      b.ratio.toFixed(2),
      `≥ ${t.batchedRatio} × baseline`,
      unlessFailed(failedB, b.ratio >= t.batchedRatio),
    );
    row(
      '',
      'enqueue/s',
      cell(b.hookrunnerEnqueue, int),
      cell(b.baselineEnqueue, int),
      ratio(b.hookrunnerEnqueue, b.baselineEnqueue).toFixed(2),
      '',
      undefined,
    );
  }
  if (ran(s.hookrunner)) {
    row(
      `2 single (${opts.n} calls, ${opts.connections} conns)`,
      'calls/s',
      cell(s.hookrunner, int),
      '',
      '',
      `≥ ${int(t.singleCallsPerSec)}`,
      unlessFailed(f.single.hookrunner, s.hookrunner.median >= t.singleCallsPerSec),
    );
    row('', 'enqueue/s', cell(s.hookrunnerEnqueue, int), '', '', '', undefined);
  }
  if (ran(l.hookrunner.p50)) {
    const label = `3 latency (${opts.rate}/s × ${opts.durationS} s)`;
    for (const k of ['p50', 'p90', 'p99', 'max']) {
      const target = k === 'p50' ? t.latencyP50Ms : k === 'p99' ? t.latencyP99Ms : undefined;
      row(
        k === 'p50' ? label : '',
        `${k} ms`,
        cell(l.hookrunner[k], ms),
        cell(l.baseline[k], ms),
        l.ratio[k].toFixed(2),
        target ? `≤ ${target}` : '',
        target ? unlessFailed(failedL, l.hookrunner[k].median <= target) : undefined,
      );
    }
  }
  const w = summary.waited;
  if (ran(w.addedP50)) {
    const label = `5 waited (${opts.rate}/s × ${opts.durationS} s, waitMs ${opts.waitMs})`;
    const bad = w.failed + w.notInTime;
    row(label, 'event p50 / p99 ms', `${cell(w.eventP50, ms)} / ${cell(w.eventP99, ms)}`, '', '', '', undefined);
    row('', '200 reply p50 / p99 ms', `${cell(w.replyP50, ms)} / ${cell(w.replyP99, ms)}`, '', '', '', undefined);
    for (const [k, added] of [
      ['p50', w.addedP50],
      ['p99', w.addedP99],
    ]) {
      const ok = unlessFailed(bad, added.median <= t.waitAddedMs);
      row('', `added ${k} ms`, cell(added, ms), '', '', `≤ ${t.waitAddedMs}`, ok);
    }
  }
  for (const slow of summary.slow) {
    const label = `4 slow ${opts.slowMs} ms, concurrency ${slow.concurrency} (${slow.calls} calls)`;
    const need = t.slowShare * slow.ideal;
    row(
      label,
      'calls/s',
      cell(slow.callsPerSec, int),
      '',
      (slow.callsPerSec.median / slow.ideal).toFixed(2) + ' of ideal',
      `≥ ${int(need)}`,
      unlessFailed(slow.failed, slow.callsPerSec.median >= need),
    );
    row(
      '',
      'worker peak RSS MB',
      cell(slow.peakRssMB, int),
      '',
      '',
      `≤ ${t.workerRssMB}`,
      slow.peakRssMB.median <= t.workerRssMB,
    );
  }

  const header = [
    'scenario',
    'metric',
    'hookrunner median [min–max]',
    'baseline median [min–max]',
    'hr/base',
    'target',
    '',
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (r) =>
    r
      .map((c, i) => String(c).padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  const out = [
    `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}, Redis ${machine.redis}; ` +
      `${opts.runs} run(s) per scenario${opts.smoke ? ' (SMOKE: not a measurement)' : ''}`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
  ];

  const failures = [f.batched, f.single, f.latency, ...summary.slow].map((x) => x.firstFailure).filter(Boolean);
  if (failures.length > 0) out.push('', `Failed calls; the first one's error: ${JSON.stringify(failures[0])}`);
  const o = summary.otherLoad;
  const slowLoad = summary.slow.map((x) => `slow c${x.concurrency} ${pct(x.otherLoad)}`);
  out.push(
    '',
    'CPU taken by other programs during the runs (share of all cores, median): ' +
      `batched ${pct(o.batched)} · single ${pct(o.single)} · latency ${pct(o.latency)}` +
      `${slowLoad.length ? ' · ' : ''}${slowLoad.join(' · ')}`,
  );
  if ([o.batched, o.single, o.latency, ...summary.slow.map((x) => x.otherLoad)].some((v) => v > 0.1)) {
    out.push(
      '  more than 10%: the machine was not quiet, ' +
        'and the figures above are lower and noisier than they would be on an idle machine.',
    );
  }

  const cpu = summary.cpuMsPer1000Calls;
  const cpuLine = (name, c) =>
    c &&
    out.push(
      `  ${name.padEnd(22)} ${Object.entries(c)
        .map(([p, v]) => `${p} ${ms(v)}`)
        .join(' · ')}`,
    );
  out.push('', 'CPU ms per 1,000 calls, by process (median):');
  cpuLine('batched hookrunner', cpu.batchedHookrunner);
  cpuLine('batched baseline', cpu.batchedBaseline);
  cpuLine('single hookrunner', cpu.singleHookrunner);

  out.push(
    '',
    'Memory at the end of each run, in run order (Redis after FLUSHALL → at the end; worker heap used / RSS):',
  );
  for (const [name, m] of Object.entries(summary.memory)) {
    if (m.workerHeapUsedMB.length === 0) continue;
    out.push(
      `  ${name.padEnd(22)} redis ${m.redisUsedMemoryAfterFlushMB.join(', ')} → ` +
        `${m.redisUsedMemoryEndMB.join(', ')} MB ` +
        `(${m.redisBytesPerCall.join(', ')} B/call, ${m.redisKeysEnd.join(', ')} keys); ` +
        `worker heap ${m.workerHeapUsedMB.join(', ')} MB, RSS ${m.workerRssMB.join(', ')} MB`,
    );
  }
  return out.join('\n');
}
