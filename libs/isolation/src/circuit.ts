/**
 * The circuit breaker of one origin, as pure rules. Redis runs the same rules in
 * libs/redis/src/lua/circuit.lua, so that every worker shares one state per origin; a spec
 * (test/integration/isolation-circuit-script.spec.ts) checks the two agree step by step.
 *
 * - closed: attempts run. Outcomes are counted over a sliding window of CIRCUIT_BUCKETS buckets
 *   spanning `windowMs`; once it holds at least `minAttempts` attempts of which at least
 *   `failurePercent` % failed (timeout, network error, 5xx), the circuit opens.
 * - open: for `openMs`, every attempt is refused without a request being sent.
 * - half_open: up to `halfOpenProbes` attempts (probes) are let through; the first probe to
 *   succeed closes the circuit, the first to fail opens it again. Outcomes of attempts that were
 *   not probes are ignored while open or half-open: they started before the circuit opened. Probe
 *   permits whose outcome never came (their worker died) are handed out again after `openMs`.
 *   The window's counts are kept while open and half-open, and emptied when the circuit closes.
 */
export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitSettings {
  /** CIRCUIT_WINDOW_MS. Default 60000. */
  windowMs: number;
  /** CIRCUIT_MIN_ATTEMPTS: attempts in the window before the ratio counts. Default 10; 0 turns the breaker off. */
  minAttempts: number;
  /** CIRCUIT_FAILURE_PERCENT. Default 50. */
  failurePercent: number;
  /** CIRCUIT_OPEN_MS. Default 30000. */
  openMs: number;
  /** CIRCUIT_HALF_OPEN_PROBES. Default 3. */
  halfOpenProbes: number;
}

export const CIRCUIT_DEFAULTS: CircuitSettings = {
  windowMs: 60_000,
  minAttempts: 10,
  failurePercent: 50,
  openMs: 30_000,
  halfOpenProbes: 3,
};

/** Buckets of the sliding window: it slides by windowMs / CIRCUIT_BUCKETS. */
export const CIRCUIT_BUCKETS = 6;

export interface WindowBucket {
  /** floor(time / bucketMs) of the bucket's start. */
  index: number;
  attempts: number;
  failures: number;
}

/** What is stored per origin. A missing record is a closed circuit with an empty window. */
export interface CircuitRecord {
  state: CircuitState;
  openedAt?: number;
  /** While open: when it turns half-open. */
  reopensAt?: number;
  /** While half-open: probe permits handed out, and since when. */
  probes: number;
  halfOpenAt?: number;
  /** Slot i holds the bucket whose index ≡ i (mod CIRCUIT_BUCKETS), if any. */
  buckets: (WindowBucket | undefined)[];
}

export const CLOSED_CIRCUIT: CircuitRecord = { state: 'closed', probes: 0, buckets: [] };

export interface CircuitStep {
  record: CircuitRecord;
  /** Set when this step changed the state. */
  transition?: CircuitState;
}

export function bucketMsOf(settings: CircuitSettings): number {
  return Math.ceil(settings.windowMs / CIRCUIT_BUCKETS);
}

/** Attempts and failures in the window ending at `now`. */
export function windowCounts(
  record: CircuitRecord,
  now: number,
  settings: CircuitSettings,
): { attempts: number; failures: number } {
  const current = Math.floor(now / bucketMsOf(settings));
  let attempts = 0;
  let failures = 0;
  for (const bucket of record.buckets) {
    if (bucket && bucket.index > current - CIRCUIT_BUCKETS && bucket.index <= current) {
      attempts += bucket.attempts;
      failures += bucket.failures;
    }
  }
  return { attempts, failures };
}

/** May an attempt go out now? A half-open circuit hands out a probe permit when it says yes. */
export function admitAttempt(
  record: CircuitRecord,
  now: number,
  settings: CircuitSettings,
): CircuitStep & { allowed: boolean; probe: boolean } {
  if (record.state === 'closed') return { record, allowed: true, probe: false };
  let next = record;
  let transition: CircuitState | undefined;
  if (next.state === 'open') {
    if (now < (next.reopensAt ?? 0)) return { record, allowed: false, probe: false };
    next = { ...next, state: 'half_open', probes: 0, halfOpenAt: now };
    transition = 'half_open';
  }
  if (next.probes >= settings.halfOpenProbes && now - (next.halfOpenAt ?? 0) >= settings.openMs) {
    next = { ...next, probes: 0, halfOpenAt: now };
  }
  if (next.probes < settings.halfOpenProbes) {
    return { record: { ...next, probes: next.probes + 1 }, allowed: true, probe: true, transition };
  }
  return { record: next, allowed: false, probe: false, transition };
}

/** Counts one finished attempt. `failed`: a timeout, a network error or a 5xx. */
export function recordOutcome(
  record: CircuitRecord,
  outcome: { failed: boolean; probe: boolean },
  now: number,
  settings: CircuitSettings,
): CircuitStep {
  if (record.state === 'open' || (record.state === 'half_open' && !outcome.probe)) return { record };
  if (record.state === 'half_open') {
    return outcome.failed
      ? { record: opened(record, now, settings), transition: 'open' }
      : { record: CLOSED_CIRCUIT, transition: 'closed' };
  }
  const index = Math.floor(now / bucketMsOf(settings));
  const slot = index % CIRCUIT_BUCKETS;
  const old = record.buckets[slot];
  const bucket = old && old.index === index ? old : { index, attempts: 0, failures: 0 };
  const buckets = [...record.buckets];
  buckets[slot] = { index, attempts: bucket.attempts + 1, failures: bucket.failures + (outcome.failed ? 1 : 0) };
  const next: CircuitRecord = { ...record, buckets };
  const { attempts, failures } = windowCounts(next, now, settings);
  if (attempts >= settings.minAttempts && failures * 100 >= settings.failurePercent * attempts) {
    return { record: opened(next, now, settings), transition: 'open' };
  }
  return { record: next };
}

/** The state as seen at `now` without changing it: an open circuit past its time reads half-open. */
export function circuitStateAt(record: CircuitRecord, now: number): CircuitState {
  return record.state === 'open' && now >= (record.reopensAt ?? 0) ? 'half_open' : record.state;
}

/** The window is kept while open (the health shows what opened it) and emptied when it closes. */
function opened(record: CircuitRecord, now: number, settings: CircuitSettings): CircuitRecord {
  return { state: 'open', openedAt: now, reopensAt: now + settings.openMs, probes: 0, buckets: record.buckets };
}
