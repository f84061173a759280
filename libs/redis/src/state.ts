import type { RedisClient } from './connections';
import { keys } from './keys';
import { replies } from './replies';

export interface UserState {
  memory: Record<string, unknown>;
  user: Record<string, unknown>;
}

/** Field values are stored JSON-encoded so numbers, booleans and objects come back as they went in. */
export function decodeFields(flat: string[] | Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const entries = Array.isArray(flat) ? pairs(flat) : Object.entries(flat);
  for (const [field, raw] of entries) {
    Object.defineProperty(out, field, {
      value: parseStored(raw),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Flattens changes into merge-script arguments: field, JSON value, or "" to delete (a `null` value). */
export function encodeChanges(changes: Record<string, unknown>): string[] {
  const args: string[] = [];
  for (const [field, value] of Object.entries(changes)) {
    args.push(field, value === null || value === undefined ? '' : JSON.stringify(value));
  }
  return args;
}

/** Reads the session memory and/or the profile; skips what is not asked for (no round trip when neither is). */
export async function readState(
  redis: RedisClient,
  target: { botId: string; userId: string; sessionId: string },
  want: { memory: boolean; user: boolean } = { memory: true, user: true },
): Promise<UserState> {
  if (!want.memory && !want.user) return { memory: {}, user: {} };
  const pipeline = redis.pipeline();
  if (want.memory) pipeline.hgetall(keys.session(target.botId, target.userId, target.sessionId));
  if (want.user) pipeline.hgetall(keys.profile(target.botId, target.userId));
  const values = replies(await pipeline.exec()).map((value) => decodeFields(value as Record<string, string>));
  return { memory: want.memory ? values.shift()! : {}, user: want.user ? values.shift()! : {} };
}

function parseStored(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function pairs(flat: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}

/**
 * Most keys one session's memory, and one user's profile, may hold. A call whose reply would pass
 * it merges nothing and fails as invalid_response: stored state per user stays bounded.
 */
export const MAX_STATE_FIELDS = 1_000;
