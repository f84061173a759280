import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Every Hookrunner metric, defined once. Labels are bounded by design: never a botId, userId, URL,
 * webhook name or raw status code (a status class is fine), so the number of series does not grow
 * with tenants.
 */
export const registry = new Registry();

/** Chat latency: 5 ms to 60 s. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
export const BYTES_BUCKETS = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576];

export const callsTotal = new Counter({
  name: 'hookrunner_calls_total',
  help: 'Calls that reached a final state, by method, outcome (succeeded|failed) and error type (none when succeeded).',
  labelNames: ['method', 'outcome', 'error_type'] as const,
  registers: [registry],
});
export const callAttemptsTotal = new Counter({
  name: 'hookrunner_call_attempts_total',
  help: 'HTTP attempts made by workers, by result: success, retry (will be tried again) or fail (final).',
  labelNames: ['result'] as const,
  registers: [registry],
});
export const retriesTotal = new Counter({
  name: 'hookrunner_retries_total',
  help: 'Attempts that will be retried, by the error type that caused the retry.',
  labelNames: ['reason'] as const,
  registers: [registry],
});
export const callDurationSeconds = new Histogram({
  name: 'hookrunner_call_duration_seconds',
  help: 'Duration of one HTTP attempt against the webhook endpoint (connect to end of body).',
  labelNames: ['method', 'outcome'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});
export const callLatencySeconds = new Histogram({
  name: 'hookrunner_call_latency_seconds',
  help: 'From the 202 of the enqueue to the event being published: what a chat user waits for.',
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});
export const queueWaitSeconds = new Histogram({
  name: 'hookrunner_queue_wait_seconds',
  help: 'From enqueue to a worker starting the first attempt.',
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});
export const callsInFlight = new Gauge({
  name: 'hookrunner_calls_in_flight',
  help: 'HTTP attempts in progress in this process.',
  registers: [registry],
});
export const responseBytes = new Histogram({
  name: 'hookrunner_response_bytes',
  help: 'Size of webhook response bodies read.',
  buckets: BYTES_BUCKETS,
  registers: [registry],
});
export const eventsPublishedTotal = new Counter({
  name: 'hookrunner_events_published_total',
  help: 'Events published to the bot engine, by type.',
  labelNames: ['type'] as const,
  registers: [registry],
});
export const stateMergeSeconds = new Histogram({
  name: 'hookrunner_state_merge_seconds',
  help: 'Duration of the atomic memory/profile merge in Redis.',
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});
export const httpRequestsTotal = new Counter({
  name: 'hookrunner_http_requests_total',
  help: 'API requests, by route template, method and status class.',
  labelNames: ['route', 'method', 'status'] as const,
  registers: [registry],
});
export const httpRequestDurationSeconds = new Histogram({
  name: 'hookrunner_http_request_duration_seconds',
  help: 'API request duration, by route template and method.',
  labelNames: ['route', 'method'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});
export const redisUp = new Gauge({
  name: 'hookrunner_redis_up',
  help: '1 when this process has a ready connection to Redis, 0 otherwise.',
  registers: [registry],
});
export const redisReconnectsTotal = new Counter({
  name: 'hookrunner_redis_reconnects_total',
  help: 'Times this process started reconnecting to Redis.',
  registers: [registry],
});
export const circuitTransitionsTotal = new Counter({
  name: 'hookrunner_circuit_transitions_total',
  help: 'Circuit breaker state changes this process caused, by the state entered (open, half_open, closed).',
  labelNames: ['to'] as const,
  registers: [registry],
});
export const callsDeferredTotal = new Counter({
  name: 'hookrunner_calls_deferred_total',
  help:
    'Calls put back to wait without spending an attempt, by reason ' +
    '(bulkhead: their origin was at MAX_IN_FLIGHT_PER_ORIGIN).',
  labelNames: ['reason'] as const,
  registers: [registry],
});

/**
 * Origins whose circuit this process sees open. Set by the worker when scraped; every worker
 * sees the same shared circuits, so aggregate with max, not sum.
 */
export function registerCircuitsOpenGauge(count: () => number): void {
  if (registry.getSingleMetric('hookrunner_circuits_open')) return;
  new Gauge({
    name: 'hookrunner_circuits_open',
    help: 'Origins whose circuit breaker is open, as this worker last saw them (aggregate with max).',
    registers: [registry],
    collect() {
      this.set(count());
    },
  });
}

let defaultsStarted = false;
/** Node's process metrics (CPU, memory, event loop lag, GC); idempotent so the one-process mode registers them once. */
export function startDefaultMetrics(): void {
  if (defaultsStarted) return;
  defaultsStarted = true;
  collectDefaultMetrics({ register: registry });
}

/** `504` → `5xx`. */
export function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}
