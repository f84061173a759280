import type Redis from 'ioredis';
import { startEndpoint, TestEndpoint } from './endpoint';
import { api, ApiClient, EventCollector, subscribeEvents } from './hookrunner';
import { AppProcess, startApp } from './processes';
import type { TestCluster } from './redis-cluster';
import { RedisServerOptions, startRedis, TestRedis } from './redis-server';

/** A role that runs as a process of its own in the split deployment. */
export type SplitRole = 'api' | 'worker' | 'results';

export interface SplitDeploymentOptions {
  /** Environment of every process, over `REDIS_URL` (or `REDIS_CLUSTER_NODES`) and `LOG_LEVEL=warn`. */
  env?: Record<string, string>;
  /** The API processes to start, each with its own extra environment. Default one: `[{}]`. */
  api?: Array<Record<string, string>>;
  /** The workers to start. Default one: `[{}]`; `[]` for a test that starts them later. */
  worker?: Array<Record<string, string>>;
  /** The results consumers to start. Default one: `[{}]`. */
  results?: Array<Record<string, string>>;
  /** Options of the redis-server started for the deployment (persistence, for tests that restart it). */
  redis?: RedisServerOptions;
  /**
   * A Redis Cluster the test started itself, and stops after stop(), instead of a redis-server
   * started here: every process gets it as `REDIS_CLUSTER_NODES`.
   */
  cluster?: TestCluster;
}

/**
 * Every role as a process of its own, as in production: API, workers and results consumers on one
 * redis-server, and a scriptable webhook endpoint. stop() stops all of it, including what the test
 * started or subscribed to through start() and subscribe().
 */
export interface SplitDeployment {
  /** The redis-server; a deployment on a `cluster` has none, and reading this throws. */
  readonly redis: TestRedis;
  readonly endpoint: TestEndpoint;
  /** A connection to `redis` for reading keys; closed by stop(). */
  readonly client: Redis;
  /** What every process got: `REDIS_URL` (or `REDIS_CLUSTER_NODES`), `LOG_LEVEL` and `options.env`. */
  readonly env: Record<string, string>;
  /** The processes started so far, by role, oldest first. */
  readonly apps: Record<SplitRole, AppProcess[]>;
  /** A client of each API process, in the order of `apps.api`. */
  readonly apis: ApiClient[];
  /** A client of the first API process. */
  readonly api: ApiClient;
  /** Starts one more process of `role` with `env` and `extra` once it is healthy. */
  start(role: SplitRole, extra?: Record<string, string>): Promise<AppProcess>;
  /** Subscribes to the events of `botId`, as a bot engine does. */
  subscribe(botId: string): Promise<EventCollector>;
  stop(): Promise<void>;
}

export async function startSplitDeployment(options: SplitDeploymentOptions = {}): Promise<SplitDeployment> {
  const { cluster } = options;
  const [server, endpoint] = await Promise.all([cluster ? undefined : startRedis(options.redis), startEndpoint()]);
  const env = {
    ...(cluster ? { REDIS_CLUSTER_NODES: cluster.nodes } : { REDIS_URL: server!.url }),
    LOG_LEVEL: 'warn',
    ...options.env,
  };
  // PUBLISH reaches every node of a cluster: a subscriber on any master hears every bot.
  const eventsUrl = cluster ? cluster.masters[0].url : server!.url;
  const apps: Record<SplitRole, AppProcess[]> = { api: [], worker: [], results: [] };
  const apis: ApiClient[] = [];
  const subscriptions: EventCollector[] = [];
  let client: Redis | undefined;

  const record = (role: SplitRole, app: AppProcess): AppProcess => {
    apps[role].push(app);
    if (role === 'api') apis.push(api(`http://127.0.0.1:${app.port}`));
    return app;
  };
  const start = async (role: SplitRole, extra: Record<string, string> = {}): Promise<AppProcess> =>
    record(role, await startApp(role, { ...env, ...extra }));
  const stop = async (): Promise<void> => {
    await Promise.all(subscriptions.map((events) => events.close()));
    await Promise.all(Object.values(apps).flatMap((running) => running.map((app) => app.stop())));
    client?.disconnect();
    await Promise.all([endpoint.close(), server?.stop()]);
  };
  const redis = (): TestRedis => {
    if (!server) throw new Error('this deployment runs on a Redis Cluster: use the TestCluster given');
    return server;
  };

  const wanted: Array<[SplitRole, Record<string, string>]> = [
    ...(options.api ?? [{}]).map((extra): [SplitRole, Record<string, string>] => ['api', extra]),
    ...(options.worker ?? [{}]).map((extra): [SplitRole, Record<string, string>] => ['worker', extra]),
    ...(options.results ?? [{}]).map((extra): [SplitRole, Record<string, string>] => ['results', extra]),
  ];
  const settled = await Promise.allSettled(wanted.map(([role, extra]) => startApp(role, { ...env, ...extra })));
  // Recorded in the order asked for, so that apps.<role>[i] and apis[i] are the i-th of the options.
  settled.forEach((outcome, i) => {
    if (outcome.status === 'fulfilled') record(wanted[i][0], outcome.value);
  });
  const failed = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }

  return {
    get redis() {
      return redis();
    },
    endpoint,
    get client() {
      client ??= redis().client();
      return client;
    },
    env,
    apps,
    apis,
    get api() {
      if (!apis[0]) throw new Error('no API process runs in this deployment');
      return apis[0];
    },
    start,
    subscribe: async (botId) => {
      const events = await subscribeEvents(eventsUrl, botId);
      subscriptions.push(events);
      return events;
    },
    stop,
  };
}
