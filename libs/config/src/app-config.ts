import { Environment } from './environment';

/** The one typed configuration object every role reads. Built once from the validated environment. */
export interface AppConfig {
  redisUrl: string;
  http: { host: string; port: number; metricsPort: number };
  worker: {
    concurrency: number;
    lockDurationMs: number;
    stalledIntervalMs: number;
    maxStalledCount: number;
    retryAfterCapMs: number;
  };
  results: { concurrency: number };
  state: { sessionTtlSeconds: number };
  events: { streamMaxLen: number };
  retention: { succeededSeconds: number; failedSeconds: number };
  shutdownGraceMs: number;
  maxQueueDepth: number;
  log: { level: string };
}

export function toAppConfig(env: Environment): AppConfig {
  return {
    redisUrl: env.REDIS_URL,
    http: { host: env.HOST, port: env.PORT, metricsPort: env.METRICS_PORT },
    worker: {
      concurrency: env.WORKER_CONCURRENCY,
      lockDurationMs: env.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
      maxStalledCount: env.WORKER_MAX_STALLED_COUNT,
      retryAfterCapMs: env.RETRY_AFTER_CAP_MS,
    },
    results: { concurrency: env.RESULTS_CONCURRENCY },
    state: { sessionTtlSeconds: env.SESSION_TTL_SECONDS },
    events: { streamMaxLen: env.EVENTS_STREAM_MAXLEN },
    retention: { succeededSeconds: env.CALL_RETENTION_HOURS * 3600, failedSeconds: env.FAILED_RETENTION_HOURS * 3600 },
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    maxQueueDepth: env.MAX_QUEUE_DEPTH,
    log: { level: env.LOG_LEVEL },
  };
}
