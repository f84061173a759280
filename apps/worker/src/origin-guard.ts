import { Logger } from '@nestjs/common';
import { CallError, CallErrorType } from '@hookrunner/contracts';
import {
  CircuitState,
  circuitOpenMessage,
  DeferralSchedule,
  originVerdict,
  nextDeferral,
  TurnAwayPace,
  turnAwayPause,
  originOf,
  updateAverage,
} from '@hookrunner/isolation';
import { callsDeferredTotal, circuitTransitionsTotal, registerCircuitsOpenGauge } from '@hookrunner/observability';
import { CircuitReply, CircuitStore } from '@hookrunner/redis';

/**
 * How long a closed circuit seen by this process is trusted without asking Redis. Each recorded
 * outcome refreshes it, so an origin called more often than this never pays for a check; one
 * called less often pays one round trip. Another worker opening the circuit is seen within it.
 */
const CLOSED_TRUST_MS = 1_000;
/**
 * What an attempt to an origin is taken to last before any has ended: a guess, replaced by the
 * measured mean as soon as attempts end. Erring short costs a deferral more; erring long (the
 * timeout) would keep a burst to a fast origin waiting for seconds.
 */
const FIRST_ESTIMATE_MS = 1_000;
/** Origins remembered at once; past it the idle ones are forgotten. */
const ORIGINS_LIMIT = 10_000;

/**
 * What an attempt may do: go (then report through `finish`), wait without an attempt, or fail at
 * once. A call turned away (deferred or refused) does so after its slot has waited `pauseMs` for
 * the origin's pace (libs/isolation turnAwayPause).
 */
export type Clearance =
  | { kind: 'go'; origin?: string; probe: boolean }
  | { kind: 'defer'; delayMs: number; pauseMs: number }
  | { kind: 'refuse'; error: CallError; pauseMs: number };

interface OriginState {
  inFlight: number;
  /** Outcomes not yet recorded in the circuit: they wait while a record of this origin is under way. */
  unrecorded: { attempts: number; failures: number };
  recording: boolean;
  averageMs?: number;
  schedule: DeferralSchedule;
  pace: TurnAwayPace;
  circuit?: CircuitReply & { seenAt: number };
}

/**
 * The worker's guard between a call and its origin: the bulkhead (at most `maxInFlight` attempts
 * in flight to one origin in this process; more are deferred without holding a worker slot) and
 * the shared circuit breaker (an open circuit refuses at once, no request sent). Its checks cost
 * nothing on most attempts: the bulkhead is in memory, an open circuit is remembered until it
 * reopens, and a closed one is trusted for CLOSED_TRUST_MS; finished attempts record their
 * outcomes with one script call per origin at a time (those ending meanwhile go together in the
 * next), which answers the state. Redis trouble never blocks a call: the
 * breaker then lets attempts through. Calls it turns away (deferred or refused) leave at the
 * origin's pace: past a burst, a few hundred a second, their slots waiting their turn.
 */
export class OriginGuard {
  private readonly logger = new Logger('worker');
  private readonly origins = new Map<string, OriginState>();

  constructor(
    private readonly store: CircuitStore | undefined,
    private readonly maxInFlight: number,
  ) {
    registerCircuitsOpenGauge(() => this.openCount());
    // Every series exists from the start: the set a scrape sees never grows with what happens.
    callsDeferredTotal.inc({ reason: 'bulkhead' }, 0);
    for (const to of ['open', 'half_open', 'closed'] as const) circuitTransitionsTotal.inc({ to }, 0);
  }

  async clear(url: string, timeoutMs: number, now = Date.now()): Promise<Clearance> {
    const origin = originOf(url);
    if (!origin) return { kind: 'go', probe: false };
    const state = this.stateOf(origin);
    const known = state.circuit;
    if (known?.state === 'open' && known.reopensAt !== undefined && now < known.reopensAt)
      return this.refuse(origin, known, now);
    if (state.inFlight >= this.maxInFlight) {
      const next = nextDeferral(
        state.schedule,
        now,
        state.averageMs ?? Math.min(timeoutMs, FIRST_ESTIMATE_MS),
        this.maxInFlight,
      );
      state.schedule = next.schedule;
      callsDeferredTotal.inc({ reason: 'bulkhead' });
      return { kind: 'defer', delayMs: next.delayMs, pauseMs: this.pause(state, now) };
    }
    // Taken before any await, so concurrent calls cannot all pass the cap.
    state.inFlight++;
    if (!this.store || (known?.state === 'closed' && now - known.seenAt < CLOSED_TRUST_MS))
      return { kind: 'go', origin, probe: false };
    const reply = await this.ask(origin, () => this.store!.admit(origin, now));
    if (!reply || reply.allowed) return { kind: 'go', origin, probe: reply?.probe ?? false };
    state.inFlight--;
    return this.refuse(origin, reply, now);
  }

  /** Reports an attempt that went out: frees its bulkhead slot and records its outcome (not awaited). */
  finish(clearance: Extract<Clearance, { kind: 'go' }>, durationMs: number, error: CallError | undefined): void {
    const { origin } = clearance;
    if (!origin) return;
    const state = this.stateOf(origin);
    state.inFlight = Math.max(0, state.inFlight - 1);
    state.averageMs = updateAverage(state.averageMs, durationMs);
    if (!this.store) return;
    const verdict = originVerdict(error);
    // Not recorded: the attempt says nothing of the server. A probe's permit stays spent; the
    // half-open circuit hands out new ones after CIRCUIT_OPEN_MS, as after probes that hang.
    if (verdict === 'none') return;
    const failed = verdict === 'failure';
    if (clearance.probe) {
      void this.ask(origin, () => this.store!.record(origin, { failed, probe: true }));
      return;
    }
    state.unrecorded.attempts++;
    if (failed) state.unrecorded.failures++;
    if (!state.recording) void this.recordUnrecorded(origin, state);
  }

  /**
   * One record call per origin at a time: outcomes that end while it is under way go in the next,
   * together. A busy origin thus costs a script call per round trip instead of one per attempt.
   */
  private async recordUnrecorded(origin: string, state: OriginState): Promise<void> {
    state.recording = true;
    while (state.unrecorded.attempts > 0) {
      const { attempts, failures } = state.unrecorded;
      state.unrecorded = { attempts: 0, failures: 0 };
      await this.ask(origin, () => this.store!.recordMany(origin, attempts, failures));
    }
    state.recording = false;
  }

  /** Origins whose circuit this process last saw open. */
  openCount(now = Date.now()): number {
    let n = 0;
    for (const { circuit } of this.origins.values())
      if (circuit?.state === 'open' && (circuit.reopensAt ?? 0) > now) n++;
    return n;
  }

  private refuse(origin: string, circuit: CircuitReply, now: number): Clearance {
    return {
      kind: 'refuse',
      error: { type: CallErrorType.CircuitOpen, message: circuitOpenMessage(origin, circuit) },
      pauseMs: this.pause(this.stateOf(origin), now),
    };
  }

  /** This turned-away call's wait for its origin's pace. */
  private pause(state: OriginState, now: number): number {
    const paced = turnAwayPause(state.pace, now);
    state.pace = paced.pace;
    return paced.pauseMs;
  }

  private async ask(origin: string, call: () => Promise<CircuitReply>): Promise<CircuitReply | undefined> {
    try {
      const reply = await call();
      this.stateOf(origin).circuit = { ...reply, seenAt: Date.now() };
      if (reply.transition) this.onTransition(origin, reply.transition, reply);
      return reply;
    } catch (err) {
      this.logger.warn(`circuit of ${origin} unavailable, letting the attempt through: ${(err as Error).message}`);
      return undefined;
    }
  }

  private onTransition(origin: string, to: CircuitState, reply: CircuitReply): void {
    circuitTransitionsTotal.inc({ to });
    const detail = to === 'open' ? ` until ${new Date(reply.reopensAt ?? 0).toISOString()}` : '';
    this.logger.warn({ origin, circuit: to }, `circuit of ${origin} is now ${to}${detail}`);
  }

  private stateOf(origin: string): OriginState {
    let state = this.origins.get(origin);
    if (!state) {
      if (this.origins.size >= ORIGINS_LIMIT) this.forgetIdle();
      state = {
        inFlight: 0,
        unrecorded: { attempts: 0, failures: 0 },
        recording: false,
        schedule: { cursor: 0 },
        pace: { dueAt: 0 },
      };
      this.origins.set(origin, state);
    }
    return state;
  }

  private forgetIdle(): void {
    for (const [origin, state] of this.origins)
      if (state.inFlight === 0 && !state.recording) this.origins.delete(origin);
  }
}
