import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type Redis from 'ioredis';
import type { Result } from 'ioredis';
import type { CircuitSettings, CircuitState } from '@hookrunner/isolation';
import { keys } from './keys';

/** Raw reply of circuit.lua: state, openedAt, reopensAt, attempts, failures, allowed, probe, transition. */
type CircuitRaw = [string, number, number, number, number, number, number, string];

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** libs/redis/src/lua/circuit.lua: KEYS = the origin's circuit hash; ARGV as documented there. */
    hookrunnerCircuit(key: string, ...args: (string | number)[]): Result<CircuitRaw, Context>;
  }
}

const CIRCUIT_LUA = readFileSync(join(__dirname, 'lua', 'circuit.lua'), 'utf8');

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
    private readonly redis: Redis,
    private readonly settings: CircuitSettings,
  ) {
    redis.defineCommand('hookrunnerCircuit', { numberOfKeys: 1, lua: CIRCUIT_LUA });
  }

  admit(origin: string, now = Date.now()): Promise<CircuitReply> {
    return this.run(origin, 'admit', now);
  }

  /** `failed`: a timeout, a network error or a 5xx. */
  record(origin: string, outcome: { failed: boolean; probe: boolean }, now = Date.now()): Promise<CircuitReply> {
    return this.run(origin, 'record', now, outcome.failed ? 1 : 0, outcome.probe ? 1 : 0);
  }

  /** The circuits of several origins, changing nothing: one round trip. */
  async read(origins: string[], now = Date.now()): Promise<CircuitView[]> {
    if (origins.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const origin of origins) pipeline.hookrunnerCircuit(keys.circuit(origin), ...this.args('read', now));
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([err, raw]) => {
      if (err) throw err;
      const { allowed: _allowed, probe: _probe, transition: _transition, ...view } = parse(raw as CircuitRaw);
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

function parse(raw: CircuitRaw): CircuitReply {
  const [state, openedAt, reopensAt, attempts, failures, allowed, probe, transition] = raw;
  const reply: CircuitReply = { state: state as CircuitState, attempts, failures, allowed: allowed === 1, probe: probe === 1 };
  if (openedAt >= 0) reply.openedAt = openedAt;
  if (reopensAt >= 0 && state === 'open') reply.reopensAt = reopensAt;
  if (transition) reply.transition = transition as CircuitState;
  return reply;
}
