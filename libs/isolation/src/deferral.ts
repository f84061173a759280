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
