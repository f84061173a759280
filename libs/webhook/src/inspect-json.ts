/** Keys that could reach an object's prototype once a value is copied or merged somewhere. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** A JSON object (not null, not an array): the shape of a body, a reply, memory and a profile. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Deepest nesting accepted in bodies and replies: enough for any real payload, far below what
 * breaks a recursive walk.
 */
export const MAX_JSON_DEPTH = 64;

export interface JsonProblems {
  /** Paths of forbidden keys, at most `limit`. */
  forbidden: string[];
  /** Set when the value nests deeper than MAX_JSON_DEPTH: the path where it did. */
  tooDeep?: string;
}

/**
 * Walks a parsed JSON value without recursion (so no nesting can overflow the stack) and reports
 * forbidden keys, at any depth and inside arrays (an object's own before its children's), and
 * nesting past MAX_JSON_DEPTH.
 */
export function inspectJson(value: unknown, path: string, limit = 10): JsonProblems {
  const problems: JsonProblems = { forbidden: [] };
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path, depth: 0 }];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (typeof node.value !== 'object' || node.value === null) continue;
    if (node.depth >= MAX_JSON_DEPTH) {
      problems.tooDeep = node.path;
      return problems;
    }
    const isArray = Array.isArray(node.value);
    const keys = Object.keys(node.value);
    const children: typeof stack = [];
    for (const key of keys) {
      const at = isArray ? `${node.path}[${key}]` : `${node.path}.${key}`;
      if (!isArray && FORBIDDEN_KEYS.has(key)) {
        problems.forbidden.push(at);
        if (problems.forbidden.length >= limit) return problems;
      } else {
        children.push({ value: (node.value as Record<string, unknown>)[key], path: at, depth: node.depth + 1 });
      }
    }
    // Reversed onto the stack, so siblings are visited in document order.
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  return problems;
}

/** A path fit for an error message: long ones keep their start (the field) and their end (the offending key). */
export function shortPath(path: string, max = 120): string {
  if (path.length <= max) return path;
  const head = Math.floor(max / 3);
  return `${path.slice(0, head)}…${path.slice(path.length - (max - head - 1))}`;
}
