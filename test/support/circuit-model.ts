/**
 * The circuit breaker's rules (libs/isolation/src/circuit.ts describes them) as pure functions: a
 * test oracle. The product runs libs/redis/src/lua/circuit.lua; the script spec
 * (test/integration/isolation-circuit-script.spec.ts) drives both with the same events and
 * checks they agree step by step. It has no defaults: a spec passes its settings, and the
 * shipped ones live in libs/config alone.
 */
import type { CircuitSettings, CircuitState } from '@hookrunner/isolation';

/** Buckets of the sliding window, as circuit.lua's BUCKETS: it slides by windowMs / CIRCUIT_BUCKETS. */
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

/**
 * The settings the model's specs and the script's spec run with (the product's defaults, spelled
 * out so that the numbers in those specs read against them).
 */
export const SPEC_CIRCUIT_SETTINGS: CircuitSettings = {
  windowMs: 60_000,
  minAttempts: 10,
  failurePercent: 50,
  openMs: 30_000,
  halfOpenProbes: 3,
};

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
