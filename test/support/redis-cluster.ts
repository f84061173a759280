import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Redis, { Cluster } from 'ioredis';
import { pollUntil } from './poll';
import { startRedis, TestRedis } from './redis-server';

const run = promisify(execFile);

export interface TestCluster {
  /** `127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3`: the value of REDIS_CLUSTER_NODES. */
  readonly nodes: string;
  readonly masters: TestRedis[];
  /** A cluster client, closed by stop(). */
  client(): Cluster;
  /** Commands each master has served so far, summed over INFO commandstats: one number per master. */
  commandCounts(): Promise<number[]>;
  /** CPU seconds (user + sys) each master's process has used so far. */
  cpuSeconds(): Promise<number[]>;
  stop(): Promise<void>;
}

/**
 * A real Redis Cluster of `size` masters on free ports (no replicas), joined with
 * `redis-cli --cluster create` and ready (cluster_state:ok on every node) when this resolves.
 */
export async function startCluster(size = 3): Promise<TestCluster> {
  const masters = await Promise.all(
    Array.from({ length: size }, () =>
      startRedis({
        extraArgs: [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '2000',
        ],
      }),
    ),
  );
  const clients: (Redis | Cluster)[] = [];
  const stop = async () => {
    for (const client of clients) client.disconnect();
    await Promise.all(masters.map((m) => m.stop()));
  };
  try {
    await run('redis-cli', [
      '--cluster',
      'create',
      ...masters.map((m) => `127.0.0.1:${m.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    const direct = masters.map((m) => m.client());
    await pollUntil(
      async () => {
        const infos = await Promise.all(direct.map((c) => c.cluster('INFO')));
        return infos.every((info) => info.includes('cluster_state:ok'));
      },
      { timeoutMs: 20_000, intervalMs: 100, message: 'the cluster did not reach cluster_state:ok' },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const nodes = masters.map((m) => `127.0.0.1:${m.port}`).join(',');
  return {
    nodes,
    masters,
    client(): Cluster {
      const client = new Cluster(masters.map((m) => ({ host: '127.0.0.1', port: m.port })));
      client.on('error', () => undefined);
      clients.push(client);
      return client;
    },
    async commandCounts(): Promise<number[]> {
      return Promise.all(
        masters.map(async (m) => {
          const client = m.client();
          const stats = await client.info('commandstats');
          client.disconnect();
          return [...stats.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
        }),
      );
    },
    async cpuSeconds(): Promise<number[]> {
      return Promise.all(
        masters.map(async (m) => {
          const client = m.client();
          const info = await client.info('cpu');
          client.disconnect();
          const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
          return field('used_cpu_user') + field('used_cpu_sys');
        }),
      );
    },
    stop,
  };
}
