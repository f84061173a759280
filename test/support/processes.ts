import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { reapOnExit } from './cleanup';
import { freePort } from './free-port';
import { pollUntil } from './poll';

export type AppRole = 'api' | 'worker' | 'results' | 'examples' | 'hookrunner';

export interface AppProcess {
  readonly role: AppRole;
  readonly pid: number;
  /** The port its GET /health answers on. */
  readonly port: number;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** The last `lines` lines of output (default 50). */
  tail(lines?: number): string;
  kill(signal?: NodeJS.Signals): void;
  readonly exited: Promise<ExitStatus>;
  /** How it exited, once it has (and all its output has been read); undefined while it runs. */
  readonly exitedWith: ExitStatus | undefined;
  /** SIGTERM, then SIGKILL if it has not exited after 10 s; resolves once it has exited. */
  stop(): Promise<void>;
}

const REPO_ROOT = resolve(__dirname, '..', '..');
const HEALTHY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 10_000;
const TAIL_LINES = 50;

/** The variable each role takes its HTTP (health) port from. */
const PORT_VARIABLE: Record<AppRole, string> = {
  api: 'PORT',
  hookrunner: 'PORT',
  worker: 'METRICS_PORT',
  results: 'METRICS_PORT',
  examples: 'EXAMPLES_PORT',
};

/**
 * Spawns `node dist/apps/<role>/src/main.js` (run `npm run build` first) and resolves once
 * GET /health answers 200. The health port is `opts.healthPort`, else the role's port variable in
 * `env`, else a free port written into that variable. A start that fails or times out throws with
 * the process's last output lines.
 */
export async function startApp(
  role: AppRole,
  env: Record<string, string>,
  opts?: { healthPort: number },
): Promise<AppProcess> {
  const variable = PORT_VARIABLE[role];
  const port = opts?.healthPort ?? (env[variable] ? Number(env[variable]) : await freePort());
  const app = spawnApp(role, { [variable]: String(port), ...env }, port);

  const state = await pollUntil(
    async () => {
      if (app.exitedWith) return 'exited';
      return (await healthy(port)) ? 'healthy' : undefined;
    },
    { timeoutMs: HEALTHY_TIMEOUT_MS, intervalMs: 50, message: `${role} did not answer GET /health on port ${port}` },
  ).catch(async (error: Error) => {
    appsInThisTest.delete(app); // its output is in the error thrown
    await app.stop();
    throw new Error(`${error.message}\n--- last ${TAIL_LINES} lines of ${role} output ---\n${app.tail()}`);
  });
  if (state === 'exited') {
    appsInThisTest.delete(app);
    await app.exited;
    throw new Error(
      `${role} exited before it was healthy (${describeExit(app.exitedWith!)})\n` +
        `--- last ${TAIL_LINES} lines of ${role} output ---\n${app.tail()}`,
    );
  }
  return app;
}

/**
 * What every app under test gets unless the test says otherwise: no API key (the auth tests set
 * their own), the loopback endpoints the tests run open to webhooks, and a fixed secrets key.
 */
export const TEST_APP_DEFAULTS: Record<string, string> = {
  AUTH_DISABLED: 'true',
  OUTBOUND_ALLOW_CIDRS: '127.0.0.0/8,::1/128',
  SECRETS_KEY: '0f'.repeat(32),
};

/**
 * Spawns the role without waiting for it to become healthy: for tests that expect it to fail at
 * boot. `port` is only reported back.
 */
export function spawnApp(
  role: AppRole,
  env: Record<string, string>,
  port = Number(env[PORT_VARIABLE[role]] ?? 0),
): AppProcess {
  const main = join(REPO_ROOT, 'dist', 'apps', role, 'src', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} does not exist: run \`npm run build\` first`);

  // Never inherit REDIS_URL: an app must only ever reach the Redis its test started.
  const { REDIS_URL: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, [main], {
    cwd: REPO_ROOT,
    // NO_COLOR keeps the output printed on failure free of escape codes.
    env: { ...inherited, NO_COLOR: '1', ...TEST_APP_DEFAULTS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  const append = (chunk: Buffer): void => {
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    if (lines.length > 5000) lines.splice(0, lines.length - 5000);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  const output = (): string => (partial ? [...lines, partial] : lines).join('\n');
  const forget = child.pid ? reapOnExit({ pid: child.pid }) : () => undefined;

  let exitedWith: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolveExit) => {
    // 'close' rather than 'exit': by then all output has been read.
    child.once('close', (code, signal) => {
      exitedWith = { code, signal };
      forget();
      resolveExit(exitedWith);
    });
    child.once('error', (error) => {
      append(Buffer.from(`\n${error.message}\n`));
      exitedWith = { code: null, signal: null };
      forget();
      resolveExit(exitedWith);
    });
  });
  unref(child);

  const app = {
    role,
    pid: child.pid ?? -1,
    port,
    output,
    tail: (n = TAIL_LINES) => output().split('\n').slice(-n).join('\n'),
    kill: (signal: NodeJS.Signals = 'SIGTERM') => {
      if (!exitedWith) child.kill(signal);
    },
    exited,
    get exitedWith() {
      return exitedWith;
    },
    async stop(): Promise<void> {
      if (exitedWith) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
  appsInThisTest.add(app);
  return app;
}

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

function describeExit({ code, signal }: ExitStatus): string {
  return signal ? `signal ${signal}` : `code ${code}`;
}

async function healthy(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** A forgotten stop() must not keep Jest alive; the reaper kills the process anyway. */
function unref(child: ChildProcess): void {
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
}

/*
 * When a test fails, print the last lines of every app it ran: the cause is usually there.
 * Jest does not tell hooks whether the test passed, so this reads jest-circus's state (best
 * effort: if that ever changes, nothing is printed, nothing breaks).
 */
const appsInThisTest = new Set<AppProcess>();

interface CircusState {
  hasStarted: boolean;
  currentlyRunningTest?: { name: string; errors: unknown[] } | null;
}

function circusState(): CircusState | undefined {
  const symbol = Object.getOwnPropertySymbols(globalThis).find((s) => s.description === 'JEST_STATE_SYMBOL');
  return symbol ? (globalThis as unknown as Record<symbol, CircusState>)[symbol] : undefined;
}

const state = circusState();
if (state && !state.hasStarted && !state.currentlyRunningTest) {
  beforeEach(() => {
    for (const app of appsInThisTest) if (app.exitedWith) appsInThisTest.delete(app);
  });
  afterEach(() => {
    const test = circusState()?.currentlyRunningTest;
    if (test && test.errors.length > 0) {
      for (const app of appsInThisTest) {
        process.stderr.write(
          `\n--- "${test.name}" failed; last ${TAIL_LINES} lines of ${app.role} (pid ${app.pid}) ---\n${app.tail()}\n`,
        );
      }
    }
  });
}
