// `npm run bench -- --cluster`: the throughput scenario over 30 bots, on one Redis and on a local
// 3-master Redis Cluster, the two taking turns run by run. Prints calls/s for both, each master's share of the
// commands and of the Redis CPU the run caused, each process's CPU per call, and the projection
// per added master. `--cpu-prof` profiles the apps and prints where each spent its time.
// Writes bench/results-cluster.json. `--smoke` keeps it working in CI; it measures nothing.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import Redis from 'ioredis';
import {
  answers200,
  cpuMs,
  freePort,
  snapshotBuild,
  startChild,
  startRedis,
  stopAll,
  waitReady,
} from './lib/processes.mjs';
import { summarize } from './lib/stats.mjs';
import { hookrunner } from './lib/targets.mjs';
import { topOfProfiles } from './profile-top.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BOTS = 30;
const MASTERS = 3;
const run = promisify(execFile);

const { values } = parseArgs({
  options: {
    cluster: { type: 'boolean' },
    smoke: { type: 'boolean' },
    n: { type: 'string' },
    runs: { type: 'string' },
    out: { type: 'string' },
    'cpu-prof': { type: 'boolean' },
  },
  strict: false,
});
const smoke = values.smoke ?? false;
const n = Number(values.n ?? (smoke ? 300 : 20_000));
const runs = Number(values.runs ?? (smoke ? 1 : 3));
const out = values.out ?? `${ROOT}bench/results-cluster.json`;
const profileRoot = values['cpu-prof']
  ? `${ROOT}bench/profiles/cluster-${new Date().toISOString().replace(/[:.]/g, '-')}`
  : undefined;
const log = (line) => console.log(`[cluster] ${line}`);

/** Three cluster-enabled redis-servers joined by redis-cli: the nodes string and the servers. */
async function startCluster() {
  const servers = await Promise.all(
    Array.from({ length: MASTERS }, () =>
      startRedis({ extraArgs: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf'] }),
    ),
  );
  await run('redis-cli', [
    '--cluster',
    'create',
    ...servers.map((s) => `127.0.0.1:${s.port}`),
    '--cluster-replicas',
    '0',
    '--cluster-yes',
  ]);
  for (const server of servers) {
    const client = server.client();
    while (!(await client.cluster('INFO')).includes('cluster_state:ok')) await new Promise((r) => setTimeout(r, 100));
  }
  return { nodes: servers.map((s) => `127.0.0.1:${s.port}`).join(','), servers };
}

const commandsServed = async (client) =>
  [...(await client.info('commandstats')).matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)].reduce(
    (sum, m) => sum + Number(m[1]),
    0,
  );

/** One throughput run over BOTS bots: calls/s from the first enqueue to the last event. */
async function throughput(target, servers, subscriber, label) {
  const roles = Object.entries(target.pids());
  const bots = Array.from({ length: BOTS }, (_, i) => `${label}-bot-${i}`);
  await Promise.all(bots.map((botId) => target.prepare(botId)));
  let received = 0;
  let failed = 0;
  let resolveDone;
  const done = new Promise((resolve) => (resolveDone = resolve));
  const onMessage = (_pattern, channel, message) => {
    if (!channel.startsWith(`hookrunner:events:${label}-`)) return;
    received++;
    if (message.includes('"type":"call.failed"')) failed++;
    if (received === n) resolveDone(performance.now());
  };
  subscriber.on('pmessage', onMessage);
  const commandsBefore = await Promise.all(servers.map((s) => commandsServed(s.admin)));
  const cpuBefore = servers.map((s) => cpuMs(s.server.pid));
  const appCpuBefore = roles.map(([, pid]) => cpuMs(pid));
  const started = performance.now();
  const batch = 500;
  let next = 0;
  const send = async () => {
    while (next < n) {
      const from = next;
      next = Math.min(n, next + batch);
      // Each batch is one bot's: bots take turns, so every bot's partition gets work.
      const botId = bots[Math.floor(from / batch) % BOTS];
      await target.enqueueBatch(
        botId,
        Array.from({ length: next - from }, (_, i) => `u${from + i}`),
        'fast',
      );
    }
  };
  await Promise.all(Array.from({ length: 4 }, send));
  const timeout = new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`${received} of ${n} events within 120 s`)), 120_000).unref(),
  );
  const ended = await Promise.race([done, timeout]);
  subscriber.off('pmessage', onMessage);
  const commands = (await Promise.all(servers.map((s) => commandsServed(s.admin)))).map(
    (c, i) => c - commandsBefore[i],
  );
  const cpu = servers.map((s, i) => cpuMs(s.server.pid) - cpuBefore[i]);
  const appCpuMsPer1000Calls = Object.fromEntries(
    roles.map(([role, pid], i) => [role, Math.round(((cpuMs(pid) - appCpuBefore[i]) / n) * 1000)]),
  );
  const totalCommands = commands.reduce((a, b) => a + b, 0);
  const totalCpu = cpu.reduce((a, b) => a + b, 0);
  return {
    callsPerSec: n / ((ended - started) / 1000),
    failed,
    commandShare: commands.map((c) => c / totalCommands),
    cpuShare: cpu.map((c) => c / totalCpu),
    redisCpuMsPer1000Calls: (totalCpu / n) * 1000,
    appCpuMsPer1000Calls,
  };
}

/** Run `run` of one mode, on a stack of its own started for it and stopped after. */
async function measure(mode, run, dist, endpointPort) {
  let servers;
  let extraEnv = {};
  let redisUrl;
  if (mode === 'single') {
    const redis = await startRedis();
    servers = [redis];
    redisUrl = redis.url;
  } else {
    const cluster = await startCluster();
    servers = cluster.servers;
    redisUrl = servers[0].url;
    extraEnv = { REDIS_CLUSTER_NODES: cluster.nodes };
  }
  for (const s of servers) s.admin = s.client();
  const profileDir = profileRoot && `${profileRoot}/${mode}-${run}`;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const target = hookrunner({ dist, redisUrl, endpointPort, connections: 64, extraEnv, nodeArgs });
  await target.start();
  // PUBLISH reaches every node: one subscriber on the first node hears every bot.
  const subscriber = new Redis(servers[0].url);
  await subscriber.psubscribe('hookrunner:events:*');
  // A warm-up run first: the JIT, the connections and the queues' first keys are not measured.
  await throughput(target, servers, subscriber, `${mode}-warm-${run}`);
  const result = await throughput(target, servers, subscriber, `${mode}-${run}`);
  log(
    `${mode} run ${run}: ${Math.round(result.callsPerSec)} calls/s, ` +
      `commands per master ${result.commandShare.map(pct).join(' / ')}, ` +
      `Redis CPU per master ${result.cpuShare.map(pct).join(' / ')}; CPU ms per 1,000 calls: Redis ` +
      `${Math.round(result.redisCpuMsPer1000Calls)}, ${Object.entries(result.appCpuMsPer1000Calls)
        .map(([role, ms]) => `${role} ${ms}`)
        .join(', ')} (${result.failed} failed)`,
  );
  subscriber.disconnect();
  const roleOf = new Map(Object.entries(target.pids()).map(([role, pid]) => [pid, role]));
  await target.stop();
  if (profileDir)
    console.log(`\n${topOfProfiles(profileDir, (pid) => `${mode}: hookrunner ${roleOf.get(pid) ?? '?'}`)}`);
  await Promise.all(servers.map((s) => s.stop()));
  return result;
}

const pct = (x) => `${(x * 100).toFixed(0)}%`;
const median = (xs) => summarize(xs).median;

async function main() {
  const dist = snapshotBuild(ROOT);
  const endpointPort = await freePort();
  const endpoint = startChild('endpoint', process.execPath, [fileURLToPath(new URL('endpoint.mjs', import.meta.url))], {
    env: { PORT: String(endpointPort), SLOW_MS: '200' },
  });
  await waitReady(endpoint, () => answers200(`http://127.0.0.1:${endpointPort}/health`), 'an answer');
  log(`${n} calls over ${BOTS} bots, ${runs} run(s) per mode, ${cpus().length} cores`);
  // The modes take turns, run by run, so a drift in the machine's speed reaches both alike.
  const single = [];
  const cluster = [];
  for (let run = 1; run <= runs; run++) {
    single.push(await measure('single', run, dist, endpointPort));
    cluster.push(await measure('cluster', run, dist, endpointPort));
  }
  await stopAll();

  const singleRate = median(single.map((r) => r.callsPerSec));
  const clusterRate = median(cluster.map((r) => r.callsPerSec));
  const byMaster = (key) => Array.from({ length: MASTERS }, (_, i) => median(cluster.map((r) => r[key][i])));
  const redisCpuPerCallMs = median(cluster.map((r) => r.redisCpuMsPer1000Calls)) / 1000;
  const cpuShares = byMaster('cpuShare');
  const summary = {
    singleCallsPerSec: Math.round(singleRate),
    clusterCallsPerSec: Math.round(clusterRate),
    clusterToSingle: +(clusterRate / singleRate).toFixed(2),
    commandSharePerMaster: byMaster('commandShare').map((x) => +x.toFixed(3)),
    cpuSharePerMaster: cpuShares.map((x) => +x.toFixed(3)),
    redisCpuMsPer1000Calls: +(redisCpuPerCallMs * 1000).toFixed(1),
    // redisCpuPerCallMs is summed over the masters: with the work spread evenly, N masters, each on
    // a core of its own, serve N × 1000 / redisCpuPerCallMs calls/s, so each added master adds
    // 1000 / redisCpuPerCallMs. Unevenly, the busiest master fills its core first.
    projectedCallsPerSecPerMaster: Math.round(1000 / redisCpuPerCallMs),
    projectedCallsPerSecThisCluster: Math.round(1000 / (redisCpuPerCallMs * Math.max(...cpuShares))),
    failed: [...single, ...cluster].reduce((sum, r) => sum + r.failed, 0),
  };
  writeFileSync(
    out,
    `${JSON.stringify({ date: new Date().toISOString(), n, runs, bots: BOTS, summary, single, cluster }, null, 2)}\n`,
  );
  console.log(
    [
      '',
      `| mode | calls/s (median of ${runs}) | commands per master | Redis CPU per master |`,
      '|---|---|---|---|',
      `| one node | ${summary.singleCallsPerSec} | 100% | 100% |`,
      `| ${MASTERS}-master cluster | ${summary.clusterCallsPerSec} (${summary.clusterToSingle} of one node) | ` +
        `${summary.commandSharePerMaster.map(pct).join(' / ')} | ${summary.cpuSharePerMaster.map(pct).join(' / ')} |`,
      '',
      `Redis CPU per 1,000 calls on the cluster: ${summary.redisCpuMsPer1000Calls} ms in all; ` +
        `one more master adds about ${summary.projectedCallsPerSecPerMaster} calls/s of Redis capacity ` +
        `(spread evenly); these ${MASTERS}, the busiest at ${pct(Math.max(...cpuShares))}, serve about ` +
        `${summary.projectedCallsPerSecThisCluster}.`,
      `results: ${out}`,
    ].join('\n'),
  );
  if (summary.failed > 0) console.error(`bench: ${summary.failed} calls failed`);
  return summary.failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (err) => {
    console.error(`bench --cluster failed: ${err.stack ?? err.message}`);
    await stopAll().catch(() => undefined);
    process.exit(1);
  },
);
