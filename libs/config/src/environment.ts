import { plainToInstance, Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, validateSync } from 'class-validator';

const toBool = ({ value }: { value: unknown }) =>
  value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;
const toInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;

/**
 * Every environment variable Hookrunner reads, with its default. The README's configuration
 * table lists the same variables; keep them in step.
 */
export class Environment {
  /** Redis for queues, definitions and state. */
  @IsString()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';
  /**
   * Seed nodes of a Redis Cluster (`host:port,host:port,…`); when set, every role uses Cluster
   * clients and REDIS_URL is not used.
   */
  @IsOptional()
  @IsString()
  @Matches(/^[^\s,:]+:\d{1,5}(,[^\s,:]+:\d{1,5})*$/, {
    message: 'REDIS_CLUSTER_NODES must be host:port pairs separated by commas',
  })
  REDIS_CLUSTER_NODES?: string = undefined;

  @IsString() HOST = '127.0.0.1';
  /** The API's port (and, in the one-process mode, the port of every role's /metrics). */
  @Transform(toInt) @IsInt() @Min(1) @Max(65535) PORT = 3000;
  /** Port of /metrics, /health and /ready for the worker and results processes. */
  @Transform(toInt) @IsInt() @Min(1) @Max(65535) METRICS_PORT = 9464;

  @Transform(toInt) @IsInt() @Min(1) @Max(10_000) WORKER_CONCURRENCY = 100;
  /** Lock BullMQ holds on a running call; renewed every half of it while the process lives. */
  @Transform(toInt) @IsInt() @Min(1_000) @Max(600_000) WORKER_LOCK_DURATION_MS = 15_000;
  @Transform(toInt) @IsInt() @Min(500) @Max(600_000) WORKER_STALLED_INTERVAL_MS = 5_000;
  @Transform(toInt) @IsInt() @Min(1) @Max(1_000) WORKER_MAX_STALLED_COUNT = 20;
  @Transform(toInt) @IsInt() @Min(1) @Max(10_000) RESULTS_CONCURRENCY = 200;

  /** Session memory expires after this long without a call. */
  @Transform(toInt) @IsInt() @Min(1) SESSION_TTL_SECONDS = 600;
  @Transform(toInt) @IsInt() @Min(1_000) EVENTS_STREAM_MAXLEN = 1_000_000;
  /** How long a succeeded call stays readable through GET /v1/calls/{callId}. */
  @Transform(toInt) @IsInt() @Min(1) CALL_RETENTION_HOURS = 24;
  /** How long a failed call stays readable and replayable. */
  @Transform(toInt) @IsInt() @Min(1) FAILED_RETENTION_HOURS = 168;
  /** Waiting calls beyond which enqueue answers 429, before Redis runs out of memory. */
  @Transform(toInt) @IsInt() @Min(1) MAX_QUEUE_DEPTH = 1_000_000;
  /** Upper bound on a Retry-After delay the workers will honour. */
  @Transform(toInt) @IsInt() @Min(0) RETRY_AFTER_CAP_MS = 60_000;

  /**
   * Calls-queue partitions (each its own BullMQ queue and hash tag); a bot's calls all go to one.
   * Never lower it while calls wait.
   */
  @Transform(toInt) @IsInt() @Min(1) @Max(64) QUEUE_PARTITIONS = 4;
  /** Calls one worker process runs at once to one origin (scheme, host, port); more wait without holding a slot. */
  @Transform(toInt) @IsInt() @Min(1) @Max(10_000) MAX_IN_FLIGHT_PER_ORIGIN = 20;
  /** The circuit breaker's sliding window. */
  @Transform(toInt) @IsInt() @Min(1_000) @Max(3_600_000) CIRCUIT_WINDOW_MS = 60_000;
  /** Attempts in the window before a circuit may open; 0 turns the breaker off. */
  @Transform(toInt) @IsInt() @Min(0) CIRCUIT_MIN_ATTEMPTS = 10;
  /** Share of timeouts, network errors and 5xx in the window that opens a circuit. */
  @Transform(toInt) @IsInt() @Min(1) @Max(100) CIRCUIT_FAILURE_PERCENT = 50;
  /** How long an open circuit refuses attempts before letting probes through. */
  @Transform(toInt) @IsInt() @Min(100) @Max(3_600_000) CIRCUIT_OPEN_MS = 30_000;
  /** Probe attempts a half-open circuit lets through at once. */
  @Transform(toInt) @IsInt() @Min(1) @Max(1_000) CIRCUIT_HALF_OPEN_PROBES = 3;

  @Transform(toInt) @IsInt() @Min(0) SHUTDOWN_GRACE_MS = 30_000;
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']) LOG_LEVEL = 'info';

  /** Comma-separated API keys; `key:bot1|bot2` restricts a key to those bots. */
  @IsOptional() @IsString() API_KEYS?: string = undefined;
  /** A file of API keys, one per line in the API_KEYS form, `#` comments. */
  @IsOptional() @IsString() API_KEYS_FILE?: string = undefined;
  /** For tests only: /v1 without keys. Announced loudly at start. */
  @Transform(toBool) @IsBoolean() AUTH_DISABLED = false;
  /** Calls per second each bot may enqueue (token bucket shared by every API process); 0 turns it off. */
  @Transform(toInt) @IsInt() @Min(0) RATE_LIMIT_PER_BOT = 1_000;
  /** Calls a bot may enqueue at once after being idle; defaults to twice RATE_LIMIT_PER_BOT. */
  @IsOptional() @Transform(toInt) @IsInt() @Min(1) RATE_LIMIT_BURST?: number = undefined;
  /** Largest request body the API reads; larger ones get 413. */
  @Transform(toInt) @IsInt() @Min(1_024) @Max(64 * 1024 * 1024) MAX_BODY_BYTES = 1024 * 1024;

  /** Comma-separated CIDRs webhooks may reach although they are private, loopback or reserved. */
  @IsOptional() @IsString() OUTBOUND_ALLOW_CIDRS?: string = undefined;
  /** 32 bytes (64 hex characters or base64) sealing definition headers and signing secrets at rest. */
  @IsOptional() @IsString() SECRETS_KEY?: string = undefined;
  /** How long a rotated-out signing secret keeps signing beside the new one. */
  @Transform(toInt) @IsInt() @Min(0) SECRET_ROTATION_GRACE_HOURS = 24;

  @IsOptional() @IsString() NODE_ENV?: string = undefined;
}

/** Validates `env` once; throws one Error naming every bad variable and its rule. */
export function validateEnvironment(env: Record<string, unknown>): Environment {
  const known = Object.fromEntries(
    Object.keys(new Environment())
      .filter((k) => env[k] !== undefined && env[k] !== '')
      .map((k) => [k, env[k]]),
  );
  const parsed = plainToInstance(Environment, known, { exposeDefaultValues: true });
  const errors = validateSync(parsed, { whitelist: false });
  if (errors.length > 0) {
    const lines = errors.map(
      (e) => `  ${e.property}=${JSON.stringify(known[e.property])}: ${Object.values(e.constraints ?? {}).join('; ')}`,
    );
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed;
}
