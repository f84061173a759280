import type { WebhookReply } from '@hookrunner/contracts';
import { inspectJson, isPlainObject, MAX_JSON_DEPTH, shortPath } from './inspect-json';

/** The largest reply body read from an endpoint, in bytes. */
export const MAX_REPLY_BYTES = 1024 * 1024;

/** Result of {@link validateReply}: the reply with missing keys empty, or every rule it breaks. */
export type ReplyValidation = { ok: true; reply: WebhookReply } | { ok: false; errors: string[] };

const REPLY_KEYS = ['responses', 'memory', 'user_attributes', 'quickreplies'] as const;
const LIST_KEYS = new Set<string>(['responses', 'quickreplies']);
// A megabyte of `[0,0,…]` must not become half a million error strings.
const MAX_ITEM_ERRORS = 10;
const MAX_REASON_LENGTH = 100;

/** The error for a body that was cut off at `limit` bytes. */
export function describeBodyTooLarge(limit: number = MAX_REPLY_BYTES): string {
  return `body exceeds ${limit} bytes`;
}

/** Thrown by whoever reads the body stream when it passes the limit; the call fails without retry. */
export class ReplyTooLargeError extends Error {
  override readonly name = 'ReplyTooLargeError';

  constructor(readonly limit: number = MAX_REPLY_BYTES) {
    super(describeBodyTooLarge(limit));
  }
}

/**
 * Checks an endpoint's reply body: a JSON object holding at least one of `responses`,
 * `quickreplies` (arrays of strings), `memory`, `user_attributes` (objects without `__proto__`,
 * `constructor` or `prototype` keys). Other top-level keys are ignored. Reports every broken
 * rule, not only the first. Never throws.
 */
export function validateReply(body: string): ReplyValidation {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    return { ok: false, errors: [`body is not valid JSON: ${reason.slice(0, MAX_REASON_LENGTH)}`] };
  }
  if (!isPlainObject(parsed)) return { ok: false, errors: [`body must be a JSON object, got ${kindOf(parsed)}`] };
  if (!REPLY_KEYS.some((key) => Object.hasOwn(parsed, key))) {
    return { ok: false, errors: [`body must contain at least one of ${REPLY_KEYS.join(', ')}`] };
  }

  const errors = REPLY_KEYS.flatMap((key) => (LIST_KEYS.has(key) ? listErrors : objectErrors)(key, parsed[key]));
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    reply: {
      responses: [...((parsed.responses as string[] | undefined) ?? [])],
      quickreplies: [...((parsed.quickreplies as string[] | undefined) ?? [])],
      memory: copyObject(parsed.memory),
      user_attributes: copyObject(parsed.user_attributes),
    },
  };
}

function listErrors(key: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return [`${key} must be an array of strings`];
  const bad = value.flatMap((item, i) => (typeof item === 'string' ? [] : [i]));
  const errors = bad.slice(0, MAX_ITEM_ERRORS).map((i) => `${key}[${i}] must be a string`);
  if (bad.length > MAX_ITEM_ERRORS)
    errors.push(`${key} has ${bad.length - MAX_ITEM_ERRORS} more items that are not strings`);
  return errors;
}

function objectErrors(key: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!isPlainObject(value)) return [`${key} must be an object`];
  // Values are stored and published as they are: a nested `__proto__` would reach whoever merges them.
  const { forbidden, tooDeep } = inspectJson(value, key, MAX_ITEM_ERRORS);
  const errors = forbidden.map((path) => `${shortPath(path)} is not allowed`);
  if (tooDeep) errors.push(`${key} nests deeper than ${MAX_JSON_DEPTH} levels`);
  return errors;
}

/** `Object.fromEntries` defines own properties, so no key of the copy can reach a prototype. */
function copyObject(value: unknown): Record<string, unknown> {
  return isPlainObject(value) ? Object.fromEntries(Object.entries(value)) : {};
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  return Array.isArray(value) ? 'array' : typeof value;
}
