import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { reapOnExit } from '../support/cleanup';
import { freePort, pollUntil, startRedis, TEST_APP_DEFAULTS, TestRedis } from '../support';

/*
 * Defect: every `npm run start:*` builds first, and the build used to delete dist/ before writing
 * it again. Roles started one after another, as the README suggests for scaling out on one
 * machine, died while loading (`Cannot find module`, `ENOTEMPTY: rmdir 'dist'`).
 *
 * Here each role is started as a user does it, `npm run start:<role>`, in a fresh copy of the
 * sources with no build yet, about a second apart, and a source file is changed before each start
 * so that each start really builds and swaps dist while the earlier ones are still loading or
 * already serving. All four must become ready and stay up.
 */

const REPO_ROOT = resolve(__dirname, '..', '..');
const ROLES = ['worker', 'results', 'worker', 'api'] as const;
/** Pauses between starts, within the 0.6–1.5 s the defect was reported with. */
const PAUSES_MS = [600, 1_000, 1_500];
const PORT_VARIABLE = { api: 'PORT', worker: 'METRICS_PORT', results: 'METRICS_PORT' } as const;

interface Started {
  role: (typeof ROLES)[number];
  port: number;
  child: ChildProcess;
  output: string[];
  exit?: string;
}

describe('npm run start:* one role after another', () => {
  let redis: TestRedis;
  let copy: string;
  let releaseCopy: () => void;
  const started: Started[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    copy = mkdtempSync(join(tmpdir(), 'hookrunner-start-'));
    releaseCopy = reapOnExit({ dir: copy });
    for (const entry of ['apps', 'libs', 'scripts', 'package.json', '.swcrc']) {
      cpSync(join(REPO_ROOT, entry), join(copy, entry), { recursive: true });
    }
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(copy, 'node_modules'));
  });

  afterAll(async () => {
    await Promise.all(started.map(stop));
    await redis?.stop();
    rmSync(copy, { recursive: true, force: true });
    releaseCopy?.();
  });

  it('brings up worker, results, worker and api started 0.6–1.5 s apart while sources change', async () => {
    for (const [i, role] of ROLES.entries()) {
      if (i > 0) await new Promise((done) => setTimeout(done, PAUSES_MS[i - 1]));
      // The module a loading process died on: changed, so this start builds and swaps dist again.
      appendFileSync(join(copy, 'libs', 'config', 'src', 'app-config.ts'), `\n// changed before start ${i}\n`);
      started.push(await startScript(copy, role, redis.url));
    }

    for (const app of started) {
      const state = await pollUntil(async () => app.exit ?? ((await status(app.port, '/ready')) === 200 && 'ready'), {
        timeoutMs: 60_000,
        intervalMs: 100,
        message: `${app.role} on port ${app.port} did not answer /ready with 200`,
      });
      if (state !== 'ready') throw new Error(`${app.role} exited with ${state}:\n${app.output.join('')}`);
    }
    // Ready, and none of them has been broken meanwhile by a later start's build.
    expect(started.map((app) => ({ role: app.role, exit: app.exit }))).toEqual(
      ROLES.map((role) => ({ role, exit: undefined })),
    );
    expect(await Promise.all(started.map((app) => status(app.port, '/health')))).toEqual(ROLES.map(() => 200));

    // dist is a symlink to a complete build, and a build with unchanged sources leaves it alone.
    const dist = join(copy, 'dist');
    expect(lstatSync(dist).isSymbolicLink()).toBe(true);
    const link = readlinkSync(dist);
    const builds = readdirSync(join(copy, '.builds')).sort();
    execFileSync('npm', ['run', 'build', '--silent'], { cwd: copy, stdio: 'pipe' });
    expect(readlinkSync(dist)).toBe(link);
    expect(readdirSync(join(copy, '.builds')).sort()).toEqual(builds);
    expect(builds.filter((build) => build.includes('.tmp-'))).toEqual([]);
  }, 180_000);
});

/** `npm run start:<role>` in `cwd`, as its own process group so that stop() reaches npm, sh and node. */
async function startScript(cwd: string, role: Started['role'], redisUrl: string): Promise<Started> {
  const port = await freePort();
  // Never inherit REDIS_URL: an app must only ever reach the Redis its test started.
  const { REDIS_URL: _ignored, ...inherited } = process.env;
  const child = spawn('npm', ['run', `start:${role}`, '--silent'], {
    cwd,
    env: {
      ...inherited,
      NO_COLOR: '1',
      ...TEST_APP_DEFAULTS,
      REDIS_URL: redisUrl,
      LOG_LEVEL: 'warn',
      [PORT_VARIABLE[role]]: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  // A negative pid is the process group: the reaper kills npm and the node it started.
  const release = reapOnExit({ pid: -child.pid! });
  const app: Started = { role, port, child, output: [] };
  child.stdout.on('data', (chunk: Buffer) => app.output.push(chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => app.output.push(chunk.toString()));
  child.once('close', (code, signal) => {
    app.exit = signal ?? `code ${code}`;
    release();
  });
  return app;
}

async function stop(app: Started): Promise<void> {
  if (app.exit) return;
  const closed = new Promise((done) => app.child.once('close', done));
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(-app.child.pid!, name);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 10_000);
  await closed;
  clearTimeout(timer);
}

async function status(port: number, path: string): Promise<number | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(1_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return undefined;
  }
}
