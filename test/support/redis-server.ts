import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis, { RedisOptions } from 'ioredis';
import { reapOnExit } from './cleanup';
import { freePort } from './free-port';
import { pollUntil } from './poll';

/*
 * Tests always start their own redis-server, even when REDIS_URL is set: they kill and restart
 * Redis, flush it and read every key, so they must never run against a server holding data they
 * did not create. REDIS_URL is deliberately ignored here.
 */

export interface RedisServerOptions {
  /** Enable the append-only file, so restart() reloads the data. Default false. */
  appendonly?: boolean;
  /** Only meaningful with `appendonly`. Default 'everysec'. */
  appendfsync?: 'always' | 'everysec';
  /** Working directory for the AOF. Default: a fresh temp dir, removed by stop(). */
  dir?: string;
  /** Default: a free port. */
  port?: number;
  /** More redis-server arguments (a cluster node's, say). */
  extraArgs?: string[];
}

export interface TestRedis {
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** A new ioredis connection to this server, closed by stop(). */
  client(options?: RedisOptions): Redis;
  /** Sends `signal` (default SIGKILL, a crash) and resolves once the server has exited. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same port and dir (stopping it first if it still runs). */
  restart(): Promise<void>;
  /** Closes the clients, kills the server and removes the temp dir it created. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;

export async function startRedis(opts: RedisServerOptions = {}): Promise<TestRedis> {
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'hookrunner-redis-'));
  const clients = new Set<Redis>();
  let server: RedisProcess | undefined;

  const releaseDir = ownDir ? reapOnExit({ dir }) : () => undefined;

  let port = opts.port ?? 0;
  try {
    // A free port can be taken between freePort() and the bind; pick another one then.
    for (let attempt = 1; ; attempt++) {
      if (opts.port === undefined) port = await freePort();
      try {
        server = await spawnRedis(port, dir, opts);
        break;
      } catch (error) {
        const portTaken = error instanceof PortTakenError && opts.port === undefined;
        if (!portTaken || attempt === 5) throw error;
      }
    }
  } catch (error) {
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    releaseDir();
    throw error;
  }

  const kill = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const current = server;
    if (!current || current.exitCode() !== undefined) return;
    current.child.kill(signal);
    await current.exited;
  };

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    client(options?: RedisOptions): Redis {
      const client = new Redis({ host: '127.0.0.1', port, ...options });
      // Restarts make clients see ECONNREFUSED; ioredis reconnects by itself, the event is noise.
      client.on('error', () => undefined);
      clients.add(client);
      return client;
    },
    kill,
    async restart(): Promise<void> {
      await kill('SIGTERM');
      server = await spawnRedis(port, dir, opts);
    },
    async stop(): Promise<void> {
      for (const client of clients) client.disconnect();
      clients.clear();
      await kill('SIGKILL');
      if (ownDir) rmSync(dir, { recursive: true, force: true });
      releaseDir();
    },
  };
}

interface RedisProcess {
  child: ChildProcess;
  exited: Promise<void>;
  exitCode(): number | string | undefined;
}

class PortTakenError extends Error {}

async function spawnRedis(port: number, dir: string, opts: RedisServerOptions): Promise<RedisProcess> {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    opts.appendonly ? 'yes' : 'no',
    '--appendfsync',
    opts.appendfsync ?? 'everysec',
    '--daemonize',
    'no',
    '--logfile',
    '',
    ...(opts.extraArgs ?? []),
  ];
  // Not detached: Ctrl+C in the terminal reaches redis-server too.
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const append = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on('data', append);
  child.stderr.on('data', append);
  // Unref'd so a forgotten stop() cannot keep Jest alive; the reaper still kills the server.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();

  const release = child.pid ? reapOnExit({ pid: child.pid }) : () => undefined;
  let exit: number | string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = code ?? signal ?? 'unknown';
      release();
      resolve();
    });
    child.once('error', (error) => {
      exit = 'spawn error';
      output += `\n${error.message}`;
      resolve();
    });
  });
  const redis: RedisProcess = { child, exited, exitCode: () => exit };

  let state: 'ready' | 'exited';
  try {
    state = await pollUntil(async () => (exit !== undefined ? 'exited' : (await ping(port)) ? 'ready' : undefined), {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 20,
      message: `redis-server on port ${port} did not answer PING`,
    });
  } catch (error) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`${(error as Error).message}\n${output}`);
  }
  if (state === 'exited') {
    const detail = `redis-server ${args.join(' ')} exited with ${exit}:\n${output}`;
    throw /address already in use/i.test(output) ? new PortTakenError(detail) : new Error(detail);
  }
  return redis;
}

/** True when the server answers +PONG (not -LOADING while it replays the AOF). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}
