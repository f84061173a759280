/**
 * The circuit breaker of one origin. Redis runs it in libs/redis/src/lua/circuit.lua, so that
 * every worker shares one state per origin; test/support/circuit-model.ts restates the rules in
 * TypeScript and test/integration/isolation-circuit-script.spec.ts checks the script against them.
 *
 * - closed: attempts run. Outcomes are counted over a sliding window of 6 buckets spanning
 *   `windowMs`; once it holds at least `minAttempts` attempts of which at least
 *   `failurePercent` % failed (timeout, network error, 5xx), the circuit opens.
 * - open: for `openMs`, every attempt is refused without a request being sent.
 * - half_open: up to `halfOpenProbes` attempts (probes) are let through; the first probe to
 *   succeed closes the circuit, the first to fail opens it again. Outcomes of attempts that were
 *   not probes are ignored while open or half-open: they started before the circuit opened. Probe
 *   permits whose outcome never came (their worker died) are handed out again after `openMs`.
 *   The window's counts are kept while open and half-open, and emptied when the circuit closes.
 */
export type CircuitState = 'closed' | 'open' | 'half_open';

/** The breaker's settings: the CIRCUIT_* variables (their defaults live in libs/config). */
export interface CircuitSettings {
  /** CIRCUIT_WINDOW_MS. */
  windowMs: number;
  /** CIRCUIT_MIN_ATTEMPTS: attempts in the window before the ratio counts; 0 turns the breaker off. */
  minAttempts: number;
  /** CIRCUIT_FAILURE_PERCENT. */
  failurePercent: number;
  /** CIRCUIT_OPEN_MS. */
  openMs: number;
  /** CIRCUIT_HALF_OPEN_PROBES. */
  halfOpenProbes: number;
}
