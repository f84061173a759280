/** Longest a call waits for its origin's bulkhead before it is looked at again. */
export const MAX_DEFER_MS = 30_000;

/**
 * The per-origin schedule of calls deferred by the bulkhead in one worker process: while the
 * origin is at its cap, a slot frees about every `averageMs / cap`, so the k-th deferred call is
 * due about k such intervals from now. Spacing the wake-ups this way takes each deferred call back
 * about when a slot frees for it, instead of every deferred call coming back at once to be
 * deferred again. A call due later than MAX_DEFER_MS is looked at again at a random time between
 * half of it and all of it (its circuit may have opened meanwhile, failing it at once): spread, so
 * that a backlog of such calls never comes back in one burst.
 */
export interface DeferralSchedule {
  /** Epoch ms of the last wake-up handed out. */
  cursor: number;
}

export function nextDeferral(
  schedule: DeferralSchedule,
  now: number,
  averageMs: number,
  cap: number,
  random: () => number = Math.random,
): { delayMs: number; schedule: DeferralSchedule } {
  const spacing = Math.max(1, averageMs / Math.max(1, cap));
  const cursor = Math.max(schedule.cursor, now) + spacing;
  if (cursor - now <= MAX_DEFER_MS) return { delayMs: Math.ceil(cursor - now), schedule: { cursor } };
  // Past the horizon the cursor stops growing, so the schedule never runs away from the present.
  return { delayMs: Math.ceil(MAX_DEFER_MS * (0.5 + random() / 2)), schedule: { cursor: now + MAX_DEFER_MS } };
}

/** Exponentially weighted mean of attempt durations; the first sample counts in full. */
export function updateAverage(average: number | undefined, sampleMs: number, weight = 0.2): number {
  return average === undefined ? sampleMs : average + weight * (sampleMs - average);
}

/**
 * Calls one worker process turns away per second from one origin, past a burst of
 * TURN_AWAY_BURST: those deferred by its bulkhead and those refused by its open circuit. Turning a
 * call away is cheap for the call but not for the box: a deferral is a fetch, a move back to
 * delayed and the job read again; a refusal is a fetch, a failed job, a result to merge and an
 * event. Unpaced, a flood's backlog was deferred as fast as slots freed, and refused in one burst
 * once its circuit opened: thousands a second, on the cores every other bot's calls wait for.
 */
export const TURN_AWAY_PER_SECOND = 200;
export const TURN_AWAY_BURST = 50;
/** Longest a slot waits for its turn: past it the pace gives way rather than hold slots. */
export const MAX_TURN_AWAY_PAUSE_MS = 1_000;

/** The per-origin pace of turned-away calls in one worker process (generic cell rate: when the next one is due). */
export interface TurnAwayPace {
  /** Epoch ms at which the pace would let the next deferral through with no burst left. */
  dueAt: number;
}

/**
 * How long a turned-away call's slot waits before the call goes back to delayed or fails, so that
 * an origin's turned-away calls leave at `perSecond` once `burst` of them have gone at once. The
 * slot waits idle (no request, no Redis; the job keeps its lock), and the next slot that frees
 * fetches the best-ranked call waiting, another bot's first.
 */
export function turnAwayPause(
  pace: TurnAwayPace,
  now: number,
  perSecond = TURN_AWAY_PER_SECOND,
  burst = TURN_AWAY_BURST,
): { pauseMs: number; pace: TurnAwayPace } {
  const interval = 1_000 / perSecond;
  const dueAt = Math.max(pace.dueAt, now);
  const pauseMs = Math.min(MAX_TURN_AWAY_PAUSE_MS, Math.max(0, dueAt - now - burst * interval));
  return { pauseMs: Math.ceil(pauseMs), pace: { dueAt: dueAt + interval } };
}
