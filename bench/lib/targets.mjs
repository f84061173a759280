// The two pipelines under test behind one interface, so every scenario drives both the same way:
// start(), prepare(botId), enqueueBatch(botId, userIds, webhook), enqueueOne(botId, userId, webhook),
// channel(botId), workerMemory(), stop().
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { callJob, eventsChannel as baselineChannel, openProducer } from '../baseline/pipeline.mjs';
import { answers200, freePort, rssBytes, startChild, waitReady } from './processes.mjs';

/** The webhooks every run defines: `fast` answers at once, `slow` after the endpoint's delay. */
const webhookUrls = (endpointPort) => ({
  fast: `http://127.0.0.1:${endpointPort}/fast`,
  slow: `http://127.0.0.1:${endpointPort}/slow`,
});

/**
 * Hookrunner as in production: api, worker and results as separate processes.
 * `dist` is the build to run; `nodeArgs` (e.g. --cpu-prof) go to every app; `connections`
 * bounds the API client's sockets.
 */
/** The node flags the apps run with in production (package.json, Dockerfile); the baseline gets them too. */
const PRODUCTION_NODE_ARGS = ['--max-semi-space-size=32'];

export function hookrunner({ dist, redisUrl, endpointPort, connections, nodeArgs = [], extraEnv = {} }) {
  const apps = {};
  /** Every app process started, restarts included: { role, pid }. */
  const started = [];
  let api;
  const env = {
    REDIS_URL: redisUrl,
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    // The endpoint is on loopback, which the outbound guard blocks unless allowed.
    OUTBOUND_ALLOW_CIDRS: '127.0.0.1/32',
    AUTH_DISABLED: 'true',
    // Shared by the api and the worker: it seals definition headers at rest.
    SECRETS_KEY: randomBytes(32).toString('hex'),
    // The per-bot limiter stays on the request path but never refuses: the bench drives one bot.
    RATE_LIMIT_PER_BOT: '1000000',
    // Every throughput scenario calls one origin, as a platform whose traffic goes to one server
    // would: the per-origin bulkhead is raised past the worker's concurrency so it measures the
    // pipeline, not the cap. The isolation scenario runs with the default (20).
    MAX_IN_FLIGHT_PER_ORIGIN: '10000',
    SHUTDOWN_GRACE_MS: '3000',
    ...extraEnv,
  };
  const urls = webhookUrls(endpointPort);

  const startApp = async (role, extraEnv = {}) => {
    const port = await freePort();
    const variable = role === 'api' ? 'PORT' : 'METRICS_PORT';
    const child = startChild(
      `hookrunner ${role}`,
      process.execPath,
      [...PRODUCTION_NODE_ARGS, ...nodeArgs, `${dist}/apps/${role}/src/main.js`],
      { env: { ...env, [variable]: String(port), ...extraEnv } },
    );
    child.port = port;
    started.push({ role, pid: child.pid });
    apps[role] = await waitReady(child, () => answers200(`http://127.0.0.1:${port}/health`), 'GET /health 200');
  };

  const post = async (path, body) => {
    const res = await api.request({
      path,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, text };
  };

  return {
    name: 'hookrunner',
    apps,
    started,
    channel: (botId) => `hookrunner:events:${botId}`,
    async start() {
      await Promise.all([startApp('api'), startApp('worker'), startApp('results')]);
      api = new Pool(`http://127.0.0.1:${apps.api.port}`, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
    },
    /** Restarts the worker, e.g. with another WORKER_CONCURRENCY. */
    async restartWorker(extraEnv) {
      await apps.worker.stop();
      await startApp('worker', extraEnv);
    },
    async prepare(botId) {
      for (const [name, url] of Object.entries(urls)) {
        const { status, text } = await post(`/v1/bots/${botId}/webhooks`, {
          name,
          method: 'POST',
          url,
          timeoutMs: 10_000,
          retry: { attempts: 1, backoffMs: 0 },
        });
        if (status !== 201 && status !== 200 && status !== 409)
          throw new Error(`creating webhook ${name}: HTTP ${status} ${text}`);
      }
    },
    async enqueueBatch(botId, userIds, webhook) {
      const { status, text } = await post(`/v1/bots/${botId}/calls/batch`, {
        calls: userIds.map((userId) => ({ webhook, userId })),
      });
      if (status !== 202) throw new Error(`POST /calls/batch: HTTP ${status} ${text.slice(0, 500)}`);
      const rejected = JSON.parse(text).calls.find((entry) => entry.error);
      if (rejected) throw new Error(`POST /calls/batch refused a call: ${JSON.stringify(rejected.error)}`);
    },
    async enqueueOne(botId, userId, webhook) {
      const { status, text } = await post(`/v1/bots/${botId}/calls`, { webhook, userId });
      if (status !== 202) throw new Error(`POST /calls: HTTP ${status} ${text.slice(0, 500)}`);
    },
    /** POST /calls with waitMs: the answer's status (200: ended in time, 202: still running). */
    async enqueueWaited(botId, userId, webhook, waitMs) {
      const { status, text } = await post(`/v1/bots/${botId}/calls`, { webhook, userId, waitMs });
      if (status === 200 || status === 202) return status;
      throw new Error(`POST /calls with waitMs: HTTP ${status} ${text.slice(0, 500)}`);
    },
    /** Heap from the worker's own /metrics, RSS from /proc. */
    async workerMemory() {
      const res = await fetch(`http://127.0.0.1:${apps.worker.port}/metrics`, { signal: AbortSignal.timeout(5_000) });
      const text = await res.text();
      const heapUsed = Number(/^nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\S+)/m.exec(text)?.[1] ?? NaN);
      return { heapUsed, rss: rssBytes(apps.worker.pid) };
    },
    pids: () => Object.fromEntries(Object.entries(apps).map(([role, child]) => [role, child.pid])),
    async stop() {
      await api?.close();
      await Promise.all(Object.values(apps).map((child) => child.stop()));
    },
  };
}

/** The raw baseline: a producer in this process (it has no API) and one worker process. */
export function baseline({ redisUrl, endpointPort, producerConnection, concurrency = 100 }) {
  let worker;
  let producer;
  const urls = webhookUrls(endpointPort);
  return {
    name: 'baseline',
    channel: baselineChannel,
    async start() {
      worker = startChild(
        'baseline worker',
        process.execPath,
        [...PRODUCTION_NODE_ARGS, fileURLToPath(new URL('../baseline/worker.mjs', import.meta.url))],
        {
          env: { REDIS_URL: redisUrl, CONCURRENCY: String(concurrency) },
          ipc: true,
        },
      );
      producer = openProducer(producerConnection);
      // BullMQ's worker is up once it is connected; give it a moment and check it is still alive.
      await waitReady(worker, async () => (await this.workerMemory()).rss > 0, 'an answer to a memory request');
    },
    async prepare() {},
    async enqueueBatch(botId, userIds, webhook) {
      await producer.addBulk(userIds.map((userId) => callJob(botId, userId, urls[webhook])));
    },
    async enqueueOne(botId, userId, webhook) {
      await producer.add(callJob(botId, userId, urls[webhook]));
    },
    workerMemory() {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('baseline worker did not report its memory')), 5_000);
        worker.proc.once('message', ({ memory }) => {
          clearTimeout(timer);
          resolve({ heapUsed: memory.heapUsed, rss: memory.rss });
        });
        worker.proc.send('memory');
      });
    },
    pids: () => ({ worker: worker.pid }),
    async stop() {
      await producer?.close();
      await worker?.stop();
    },
  };
}
