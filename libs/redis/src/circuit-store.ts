import type { CircuitSettings, CircuitState } from '@hookrunner/isolation';
import type { RedisClient } from './connections';
import { keys } from './keys';
import type { CircuitReplyRaw } from './scripts';

/** An origin's circuit as Redis holds it. */
export interface CircuitView {
  state: CircuitState;
  /** When it last opened (epoch ms), while open or half-open. */
  openedAt?: number;
  /** While open: when it turns half-open (epoch ms). */
  reopensAt?: number;
  /** Attempts and failures in the sliding window. */
  attempts: number;
  failures: number;
}

export interface CircuitReply extends CircuitView {
  /** admit: whether the attempt may go out. */
  allowed: boolean;
  /** admit: whether it goes out as one of the half-open circuit's probes. */
  probe: boolean;
  /** Set when this call changed the state. */
  transition?: CircuitState;
}

/**
 * The circuit breakers of every origin, in Redis so that all workers share them: one script call
 * records an attempt's outcome and answers the state, one admits an attempt. The script is loaded
 * once per connection and sent by its SHA.
 */
export class CircuitStore {
  constructor(
    /** A client with Hookrunner's scripts defined (defineScripts). */
    private readonly redis: RedisClient,
    private readonly settings: CircuitSettings,
  ) {}

  admit(origin: string, now = Date.now()): Promise<CircuitReply> {
    return this.run(origin, 'admit', now);
  }

  /** `failed`: a timeout, a network error or a 5xx. */
  record(origin: string, outcome: { failed: boolean; probe: boolean }, now = Date.now()): Promise<CircuitReply> {
    return this.run(origin, 'record', now, outcome.failed ? 1 : 0, outcome.probe ? 1 : 0);
  }

  /**
   * Records `attempts` outcomes at once, `failures` of them failed, none a probe: counted into the
   * window together, and the circuit opens if the window's failure share then says so.
   */
  recordMany(origin: string, attempts: number, failures: number, now = Date.now()): Promise<CircuitReply> {
    return this.run(origin, 'record', now, failures, 0, attempts);
  }

  /** The circuits of several origins, changing nothing: one round trip. */
  async read(origins: string[], now = Date.now()): Promise<CircuitView[]> {
    if (origins.length === 0) return [];
    // Each origin has its own slot: one command each, sent together (batched per node).
    const replies = await Promise.all(
      origins.map((origin) => this.redis.hookrunnerCircuit(keys.circuit(origin), ...this.args('read', now))),
    );
    return replies.map((raw) => {
      const { allowed: _allowed, probe: _probe, transition: _transition, ...view } = parse(raw);
      return view;
    });
  }

  private async run(origin: string, op: 'admit' | 'record', now: number, ...extra: number[]): Promise<CircuitReply> {
    return parse(await this.redis.hookrunnerCircuit(keys.circuit(origin), ...this.args(op, now), ...extra));
  }

  private args(op: string, now: number): (string | number)[] {
    const s = this.settings;
    return [op, now, s.windowMs, s.minAttempts, s.failurePercent, s.openMs, s.halfOpenProbes];
  }
}

/**
 * The circuits shared by every worker, or undefined when the breaker is off
 * (CIRCUIT_MIN_ATTEMPTS=0): then nothing records an origin's outcomes or refuses its calls.
 */
export function circuitStoreFor(redis: RedisClient, settings: CircuitSettings): CircuitStore | undefined {
  return settings.minAttempts > 0 ? new CircuitStore(redis, settings) : undefined;
}

function parse(raw: CircuitReplyRaw): CircuitReply {
  const [state, openedAt, reopensAt, attempts, failures, allowed, probe, transition] = raw;
  const reply: CircuitReply = {
    state: state as CircuitState,
    attempts,
    failures,
    allowed: allowed === 1,
    probe: probe === 1,
  };
  if (openedAt >= 0) reply.openedAt = openedAt;
  if (reopensAt >= 0 && state === 'open') reply.reopensAt = reopensAt;
  if (transition) reply.transition = transition as CircuitState;
  return reply;
}
