import type { WebhookCallJob } from '@hookrunner/contracts';
import { isPlainObject } from './inspect-json';

/** The state merge tags read from: the session memory and the user profile, flat key → value. */
export interface MergeContext {
  memory: Record<string, unknown>;
  user: Record<string, unknown>;
}

type Source = keyof MergeContext;

const TAG = String.raw`\{\{\s*(memory|user)\.([A-Za-z0-9\-_.:]+)\s*\}\}`;

/**
 * Replaces every `{{memory.KEY}}` and `{{user.KEY}}` in `template`, in a single pass: a value that
 * itself looks like a tag is not rendered again. An unknown key renders as ''. Strings render as
 * is, numbers and booleans via `String()`, null and undefined as '', objects and arrays as JSON.
 * `encode` (e.g. `encodeURIComponent`) applies to the substituted values only, never to the
 * template text. Anything that is not a well-formed tag is left untouched.
 */
export function renderMergeTags(template: string, ctx: MergeContext, encode?: (v: string) => string): string {
  return template.replace(new RegExp(TAG, 'g'), (_tag, source: Source, key: string) => {
    const text = formatValue(lookup(ctx[source], key));
    return encode ? encode(text) : text;
  });
}

/**
 * Which state the request's url, param values and header values reference, so the caller can skip
 * loading memory or the profile when no tag needs it.
 */
export function usesMergeTags(request: WebhookCallJob['request']): { memory: boolean; user: boolean } {
  const uses = { memory: false, user: false };
  const texts = [request.url, ...Object.values(request.params), ...Object.values(request.headers)];
  for (const text of texts) {
    for (const [, source] of text.matchAll(new RegExp(TAG, 'g'))) uses[source as Source] = true;
  }
  return uses;
}

/** Stored state is flat, so `a.b` is first a key of its own; only then a path into nested objects. */
function lookup(source: Record<string, unknown>, key: string): unknown {
  if (Object.hasOwn(source, key)) return source[key];
  if (!key.includes('.')) return undefined;
  let value: unknown = source;
  for (const part of key.split('.')) {
    if (!isPlainObject(value) || !Object.hasOwn(value, part)) return undefined;
    value = value[part];
  }
  return value;
}

function formatValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      return value === null ? '' : JSON.stringify(value);
    default:
      return '';
  }
}
