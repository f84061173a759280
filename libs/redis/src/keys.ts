import { EVENTS_STREAM, partitionPrefix } from '@hookrunner/contracts';

/**
 * Every Redis key and channel Hookrunner uses, built in one place.
 *
 * Hash slots (so the system can move to Redis Cluster): every Lua script and MULTI touches keys
 * of one slot only, which the `{...}` hash tags below guarantee.
 * - Per bot, slot `{<botId>}`: webhook definitions, idempotency keys, the failed-call index,
 *   the rate-limit bucket, the signing secrets and the per-minute stats. Enqueue takes tokens and reads definitions in
 *   one script, then claims idempotency keys, all in the bot's slot.
 * - Per user, slot `{<botId>/<userId>}`: the profile, every session's memory and the
 *   applied-markers. The merge script reads and writes all three atomically. `/` cannot occur in
 *   an identifier, so no two (botId, userId) pairs share a tag.
 * - Per call, slot `{<callId>}`: the call's record (a hash, written only by the call-transition
 *   script through CallRepository) and its attempt log, read together by GET /v1/calls/{callId},
 *   and the finished call's event.
 * - Per turn, slot `{<turnId>}`: the parts of a turn (its ended calls) and, once published, its event.
 * - The event stream `hookrunner:events` (no tag: its slot is that of the whole name) and the
 *   published-markers, whose tag `{hookrunner:events}` hashes to that same slot, so the publish
 *   script can check the marker and XADD atomically.
 * - BullMQ's keys carry the `{hookrunner}` tag of QUEUE_PREFIX (libs/contracts) for partition 0 of
 *   the calls queue and for the results queue; partition p > 0 of the calls queue carries its own
 *   tag `{hookrunner:p}` (partitionPrefix), so that on a cluster the partitions spread over the masters.
 * - Partition p's results stream (finished calls on their way to the results consumer) carries
 *   the partition's tag, as its calls queue does: on a cluster it sits on the same master.
 * - Per bot, slot `{<botId>}` again: the bot's pending calls (`pending`), added to by the admit
 *   script in the same round trip as its rate tokens and definitions.
 * - Per origin, slot `{<origin>}`: the circuit breaker's hash, the only key its script touches.
 *   Braces in an origin are escaped, so no origin can change which tag applies.
 * Identifiers never hold braces (IDENTIFIER_PATTERN), so no id can change which tag applies.
 */
export const keys = {
  webhooks: (botId: string) => `hookrunner:bot:{${botId}}:webhooks`,
  idempotency: (botId: string, key: string) => `hookrunner:bot:{${botId}}:idem:${key}`,
  failedCalls: (botId: string) => `hookrunner:bot:{${botId}}:failed`,
  rateBucket: (botId: string) => `hookrunner:bot:{${botId}}:rate`,
  signingSecrets: (botId: string) => `hookrunner:bot:{${botId}}:signing`,
  botStats: (botId: string, minute: number) => `hookrunner:bot:{${botId}}:stats:${minute}`,
  /** ZSET of the bot's unfinished calls, member pendingCallMember(), score its fair-queuing rank. */
  pendingCalls: (botId: string) => `hookrunner:bot:{${botId}}:pending`,

  /** The circuit breaker of one origin (`https://host:port`), shared by every worker. */
  circuit: (origin: string) => `hookrunner:circuit:{${origin.replace(/\{/g, '%7B').replace(/\}/g, '%7D')}}`,

  profile: (botId: string, userId: string) => `hookrunner:user:{${botId}/${userId}}:profile`,
  session: (botId: string, userId: string, sessionId: string) =>
    `hookrunner:user:{${botId}/${userId}}:session:${sessionId}`,
  applied: (botId: string, userId: string, callId: string, run: number) =>
    `hookrunner:user:{${botId}/${userId}}:applied:${callId}:${run}`,

  call: (callId: string) => `hookrunner:call:{${callId}}:record`,
  attempts: (callId: string) => `hookrunner:call:{${callId}}:attempts`,
  /** The finished call's event as published, for a waited enqueue whose idempotency key replays it. */
  callEvent: (callId: string) => `hookrunner:call:{${callId}}:event`,

  /** A turn's ended calls, field = declared position (1-based), and `event`, its event as published. */
  turn: (turnId: string) => `hookrunner:turn:{${turnId}}:parts`,
  /** Partition `partition`'s results stream: one entry per finished call run, read by the RESULTS_GROUP. */
  results: (partition: number) => `${partitionPrefix(partition)}:results:stream`,

  eventsStream: EVENTS_STREAM,
  published: (callId: string, run: number) => `hookrunner:events:published:{hookrunner:events}:${callId}:${run}`,
  turnPublished: (turnId: string) => `hookrunner:events:published:{hookrunner:events}:turn:${turnId}`,
} as const;

/** A call's member in keys.pendingCalls: its enqueue time first, so the oldest can be found and dropped. */
export const pendingCallMember = (enqueuedAt: number, callId: string) => `${enqueuedAt}:${callId}`;
