import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import Redis from 'ioredis';

const HOW_TO_GET_ONE =
  'Start one with `docker compose up -d redis`, or install your OS package (e.g. `apt-get install redis-server`), ' +
  'or point REDIS_URL at a running Redis.';

/**
 * Makes sure Redis answers before the embedded mode starts. When nothing answers at the default
 * address and redis-server is installed, starts one there with its data under .data/redis
 * (append-only file on); otherwise fails at once with a message saying how to get one.
 */
export async function ensureRedis(url: string, isDefaultUrl: boolean, log: (line: string) => void): Promise<void> {
  if (await answers(url)) return;
  if (!isDefaultUrl) throw new Error(`Nothing answers at REDIS_URL=${url}. ${HOW_TO_GET_ONE}`);
  if (spawnSync('redis-server', ['--version']).error)
    throw new Error(`Nothing answers at ${url} and redis-server is not installed. ${HOW_TO_GET_ONE}`);

  const dir = resolve('.data/redis');
  mkdirSync(dir, { recursive: true });
  const { port, hostname } = new URL(url);
  const started = spawnSync('redis-server', [
    '--bind',
    hostname,
    '--port',
    port || '6379',
    '--dir',
    dir,
    '--appendonly',
    'yes',
    '--appendfsync',
    'everysec',
    '--maxmemory-policy',
    'noeviction',
    '--daemonize',
    'yes',
    '--pidfile',
    `${dir}/redis.pid`,
    '--logfile',
    `${dir}/redis.log`,
  ]);
  if (started.status !== 0)
    throw new Error(`redis-server did not start: ${started.stderr.toString() || started.stdout.toString()}`);
  const deadline = Date.now() + 5_000;
  while (!(await answers(url))) {
    if (Date.now() > deadline)
      throw new Error(`redis-server was started but does not answer at ${url}; see ${dir}/redis.log`);
    await new Promise((done) => setTimeout(done, 50));
  }
  log(
    `Started redis-server at ${url} with its data in ${dir} (append-only file on). ` +
      `Stop it with: redis-cli -u ${url} shutdown`,
  );
}

async function answers(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 500,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
