import { readFileSync } from 'node:fs';
import { ApiKey, parseApiKeys, parseCidrList, ParsedCidr, parseKeysFile, parseSecretsKey } from '@hookrunner/security';
import { Environment, validateEnvironment } from './environment';

/** The one typed configuration object every role reads. Built once from the validated environment. */
export interface AppConfig {
  redisUrl: string;
  /** REDIS_CLUSTER_NODES: set in cluster mode, where it replaces redisUrl. */
  redisClusterNodes?: { host: string; port: number }[];
  http: { host: string; port: number; metricsPort: number; maxBodyBytes: number };
  worker: {
    concurrency: number;
    lockDurationMs: number;
    stalledIntervalMs: number;
    maxStalledCount: number;
    retryAfterCapMs: number;
  };
  results: { concurrency: number };
  isolation: {
    partitions: number;
    maxInFlightPerOrigin: number;
    /** minAttempts 0: no breaker. */
    circuit: { windowMs: number; minAttempts: number; failurePercent: number; openMs: number; halfOpenProbes: number };
  };
  state: { sessionTtlSeconds: number };
  events: { streamMaxLen: number };
  retention: { succeededSeconds: number; failedSeconds: number };
  shutdownGraceMs: number;
  maxQueueDepth: number;
  log: { level: string };
  auth: { disabled: boolean; keys: ApiKey[] };
  rateLimit: { perSecond: number; burst: number };
  outbound: { allow: ParsedCidr[] };
  /** Undefined only where no role of this process needs it (see loadConfig). */
  secretsKey?: Buffer;
  signing: { rotationGraceSeconds: number };
}

/** Builds the config; throws naming the variable when a value parses but cannot be used. */
export function toAppConfig(env: Environment): AppConfig {
  return {
    redisUrl: env.REDIS_URL,
    redisClusterNodes: env.REDIS_CLUSTER_NODES?.split(',').map((node) => {
      const [host, port] = node.split(':');
      return { host, port: Number(port) };
    }),
    http: { host: env.HOST, port: env.PORT, metricsPort: env.METRICS_PORT, maxBodyBytes: env.MAX_BODY_BYTES },
    worker: {
      concurrency: env.WORKER_CONCURRENCY,
      lockDurationMs: env.WORKER_LOCK_DURATION_MS,
      stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
      maxStalledCount: env.WORKER_MAX_STALLED_COUNT,
      retryAfterCapMs: env.RETRY_AFTER_CAP_MS,
    },
    results: { concurrency: env.RESULTS_CONCURRENCY },
    isolation: {
      partitions: env.QUEUE_PARTITIONS,
      maxInFlightPerOrigin: env.MAX_IN_FLIGHT_PER_ORIGIN,
      circuit: {
        windowMs: env.CIRCUIT_WINDOW_MS,
        minAttempts: env.CIRCUIT_MIN_ATTEMPTS,
        failurePercent: env.CIRCUIT_FAILURE_PERCENT,
        openMs: env.CIRCUIT_OPEN_MS,
        halfOpenProbes: env.CIRCUIT_HALF_OPEN_PROBES,
      },
    },
    state: { sessionTtlSeconds: env.SESSION_TTL_SECONDS },
    events: { streamMaxLen: env.EVENTS_STREAM_MAXLEN },
    retention: { succeededSeconds: env.CALL_RETENTION_HOURS * 3600, failedSeconds: env.FAILED_RETENTION_HOURS * 3600 },
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    maxQueueDepth: env.MAX_QUEUE_DEPTH,
    log: { level: env.LOG_LEVEL },
    auth: { disabled: env.AUTH_DISABLED, keys: loadKeys(env) },
    rateLimit: { perSecond: env.RATE_LIMIT_PER_BOT, burst: env.RATE_LIMIT_BURST ?? env.RATE_LIMIT_PER_BOT * 2 },
    outbound: { allow: env.OUTBOUND_ALLOW_CIDRS ? parseCidrList(env.OUTBOUND_ALLOW_CIDRS) : [] },
    secretsKey: env.SECRETS_KEY ? named('SECRETS_KEY', () => parseSecretsKey(env.SECRETS_KEY!)) : undefined,
    signing: { rotationGraceSeconds: env.SECRET_ROTATION_GRACE_HOURS * 3600 },
  };
}

/**
 * Validates the environment and builds the config: the only place either happens, once per
 * process at boot. Throws naming the variable and its rule. A role that seals or opens secrets
 * (the API, the worker) asks for SECRETS_KEY, and cannot start without it.
 */
export function loadConfig(env: NodeJS.ProcessEnv, { requireSecretsKey = false } = {}): AppConfig {
  const config = toAppConfig(validateEnvironment(env));
  if (requireSecretsKey && !config.secretsKey) {
    throw new Error(
      'SECRETS_KEY is not set: generate one with ' +
        "`node -e \"console.log(require('crypto').randomBytes(32).toString('hex'))\"` " +
        'and give every API and worker process the same value',
    );
  }
  return config;
}

function loadKeys(env: Environment): ApiKey[] {
  const keys = env.API_KEYS ? parseApiKeys(env.API_KEYS) : [];
  if (env.API_KEYS_FILE) {
    const text = named('API_KEYS_FILE', () => readFileSync(env.API_KEYS_FILE!, 'utf8'));
    keys.push(...parseKeysFile(text, env.API_KEYS_FILE));
  }
  return keys;
}

function named<T>(variable: string, build: () => T): T {
  try {
    return build();
  } catch (err) {
    const message = (err as Error).message;
    throw new Error(message.includes(variable) ? message : `${variable}: ${message}`);
  }
}
