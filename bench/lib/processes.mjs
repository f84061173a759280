// Child processes of a benchmark: redis-server, the endpoint, the apps and the baseline worker.
// Every one is registered with a reaper, so none outlives the benchmark however it ends.
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';

const STOP_GRACE_MS = 8_000;
const READY_TIMEOUT_MS = 30_000;
const TAIL_LINES = 40;

/*
 * The reaper reads pids from a pipe; when the pipe closes (this process ended, even by SIGKILL)
 * it kills every pid still registered. Detached, so a Ctrl+C to the terminal does not stop it first.
 */
const REAPER = `
const pids = new Set();
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  const lines = (pending + chunk).split('\\n');
  pending = lines.pop();
  for (const line of lines) (line[0] === '+' ? pids.add : pids.delete).call(pids, Number(line.slice(1)));
});
process.stdin.on('end', () => {
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  process.exit(0);
});`;

let reaper;
function reap(pid, add) {
  if (!reaper) {
    reaper = spawn(process.execPath, ['-e', REAPER], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    reaper.unref();
    reaper.stdin.unref?.();
    reaper.stdin.on('error', () => undefined);
  }
  reaper.stdin.write(`${add ? '+' : '-'}${pid}\n`);
}

const running = new Set();
const died = [];

/** Children that exited without being asked to, with the tail of their output. */
export function unexpectedExits() {
  return died.map((child) => `${child.name} (pid ${child.pid}) exited (${child.exitStatus}):\n${child.tail()}`);
}

/** Kills every child still running: SIGTERM, then SIGKILL after a grace period. */
export async function stopAll() {
  await Promise.all([...running].map((child) => child.stop()));
}

// The synchronous last resort: an uncaught error or process.exit() skips stopAll().
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Spawns a long-running child, keeps the tail of its output, and reaps it if we die. */
export function startChild(name, command, args, { env = {}, ipc = false } = {}) {
  const proc = spawn(command, args, {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  const append = (chunk) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    if (lines.length > TAIL_LINES) lines.splice(0, lines.length - TAIL_LINES);
  };
  proc.stdout.on('data', append);
  proc.stderr.on('data', append);
  let exitStatus;
  let stopping = false;
  const exited = new Promise((resolve) => {
    proc.once('exit', (code, signal) => {
      exitStatus = signal ?? code;
      if (!stopping) died.push(child);
      running.delete(child);
      reap(proc.pid, false);
      resolve(exitStatus);
    });
    proc.once('error', (err) => {
      append(Buffer.from(err.message));
      exitStatus = 'spawn error';
      running.delete(child);
      resolve(exitStatus);
    });
  });
  const child = {
    name,
    pid: proc.pid,
    proc,
    exited,
    get exitStatus() {
      return exitStatus;
    },
    tail: () => lines.join('\n'),
    kill: (signal) => exitStatus === undefined && proc.kill(signal),
    async stop() {
      if (exitStatus !== undefined) return;
      stopping = true;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(child);
  reap(proc.pid, true);
  return child;
}

/** Waits until `check` resolves true; fails early with the child's output if it exits. */
export async function waitReady(child, check, what) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitStatus !== undefined)
      throw new Error(`${child.name} exited (${child.exitStatus}) before ${what}:\n${child.tail()}`);
    if (await check().catch(() => false)) return child;
    await sleep(100);
  }
  await child.stop();
  throw new Error(`${child.name}: no ${what} within ${READY_TIMEOUT_MS} ms:\n${child.tail()}`);
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * A private copy of the build (dist/ and the package.json it reads its version from), so that a
 * rebuild by someone else during a run cannot change or break an app the bench (re)starts. It
 * lives under node_modules/, so the apps still resolve their dependencies from the repository's.
 */
export function snapshotBuild(root) {
  const dir = join(root, 'node_modules', '.cache', 'hookrunner-bench', String(process.pid));
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true, dereference: true }); // dist is a symlink
  cpSync(join(root, 'package.json'), join(dir, 'package.json'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  return join(dir, 'dist');
}

/** redis-server on a free port, without persistence; `url` and a `client()` factory. */
export async function startRedis({ extraArgs = [] } = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'hookrunner-bench-'));
  const server = startChild('redis-server', 'redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--logfile',
    '',
    ...extraArgs,
  ]);
  const clients = [];
  const client = () => {
    const c = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: null });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  };
  const probe = client();
  await waitReady(server, async () => (await probe.ping()) === 'PONG', 'PONG');
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    server,
    client,
    async stop() {
      for (const c of clients) c.disconnect();
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves true once GET url answers 200. */
export async function answers200(url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(1_000) });
  await res.arrayBuffer();
  return res.status === 200;
}

/** Resident set size of a process, in bytes (Linux). */
export function rssBytes(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

const CLOCK_TICKS = 100;
/** CPU time a process has used so far (user + system), in ms (Linux). */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which may hold spaces, start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** CPU time the whole machine has spent busy so far, in ms summed over cores (Linux). */
export function machineBusyMs() {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
  const busy = ticks.slice(0, 8).reduce((a, b) => a + b, 0) - ticks[3] - ticks[4];
  return (busy * 1000) / CLOCK_TICKS;
}

/** Samples a process's RSS until stop() returns the peak. */
export function sampleRss(pid, intervalMs = 200) {
  let peak = 0;
  const read = () => {
    try {
      peak = Math.max(peak, rssBytes(pid));
    } catch {
      // the process is gone: keep the peak seen
    }
  };
  read();
  const timer = setInterval(read, intervalMs);
  return () => {
    clearInterval(timer);
    read();
    return peak;
  };
}
