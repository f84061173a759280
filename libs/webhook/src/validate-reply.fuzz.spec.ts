import fc from 'fast-check';
import { validateReply } from './validate-reply';

/*
 * Property-based fuzzing of the reply contract: endpoints are run by strangers, so whatever text
 * comes back must be judged without throwing, judged the way the contract says, and never let a
 * `__proto__`-shaped key reach a prototype. The suite prints how many inputs it tried.
 */

const REPLY_KEYS = ['responses', 'memory', 'user_attributes', 'quickreplies'] as const;
const LIST_KEYS = ['responses', 'quickreplies'];
const FORBIDDEN = ['__proto__', 'constructor', 'prototype'];
/** Keys that name something on Object.prototype, and the one a pollution would add. */
const TRICKY_KEYS = [
  ...FORBIDDEN,
  'polluted',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  'isPrototypeOf',
];
/** Each list reports at most 10 items and one summary line; each object at most 10 forbidden keys. */
const MAX_ERRORS = 2 * 11 + 2 * 10;
const MAX_MESSAGE_LENGTH = 200;
const MESSAGE_SUBJECT = /^(body|responses|quickreplies|memory|user_attributes)[ .[]/;

/**
 * The contract, stated independently of the implementation: a JSON object with at least one of
 * the four keys; the lists hold only strings; the objects are plain and hold no forbidden key at
 * any depth (arrays included).
 */
function meetsContract(body: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return false;
  }
  if (Object.prototype.toString.call(value) !== '[object Object]') return false;
  const reply = value as Record<string, unknown>;
  const present = REPLY_KEYS.filter((key) => Object.prototype.hasOwnProperty.call(reply, key));
  if (present.length === 0) return false;
  return present.every((key) => {
    const field = reply[key];
    if (LIST_KEYS.includes(key)) return Array.isArray(field) && field.every((item) => typeof item === 'string');
    if (Object.prototype.toString.call(field) !== '[object Object]') return false;
    const problems = problemsOf(field);
    return !problems.forbidden && !problems.tooDeep;
  });
}

/** Iterative, so the deepest generated values cannot overflow the oracle's stack either. */
function holdsForbiddenKey(value: unknown): boolean {
  return problemsOf(value).forbidden;
}

/** Forbidden keys anywhere, and nesting past the limit the validator refuses (64 levels). */
function problemsOf(root: unknown): { forbidden: boolean; tooDeep: boolean } {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= 64) return { forbidden: false, tooDeep: true };
    for (const name of Reflect.ownKeys(value)) {
      if (!Array.isArray(value) && FORBIDDEN.includes(String(name))) return { forbidden: true, tooDeep: false };
      stack.push([(value as Record<string, unknown>)[name as string], depth + 1]);
    }
  }
  return { forbidden: false, tooDeep: false };
}

/** JSON values whose objects are lists of entries, so `__proto__` survives to the text (JSON.stringify drops it). */
class Entries {
  constructor(readonly entries: [string, Tree][]) {}

  /** Counterexamples print as the JSON text sent. */
  [fc.toStringMethod](): string {
    return toText(this);
  }
}
type Tree = null | boolean | number | string | Tree[] | Entries;

/** Writes a Tree as JSON text; keys are spelled literally or with \u escapes, as `escaped` says. */
function toText(tree: Tree, escaped = false): string {
  if (tree instanceof Entries) {
    const key = (k: string) => (escaped ? escapeAll(k) : JSON.stringify(k));
    return `{${tree.entries.map(([k, v]) => `${key(k)}:${toText(v, escaped)}`).join(',')}}`;
  }
  if (Array.isArray(tree)) return `[${tree.map((item) => toText(item, escaped)).join(',')}]`;
  return JSON.stringify(tree);
}

/** `"\u005f\u005fproto\u005f\u005f"`: the same key to JSON.parse, invisible to a text search. */
function escapeAll(key: string): string {
  const escape = (c: string) => (c.length === 1 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c);
  return `"${[...key].map(escape).join('')}"`;
}

const anyKey = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...TRICKY_KEYS, ...REPLY_KEYS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  // Keys end up in error paths: a long one must not make a long message.
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 5_000 }).map((n) => 'k'.repeat(n)) },
);
const scalar: fc.Arbitrary<Tree> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
/** Any JSON value, with tricky keys at every level; `{ polluted: ... }` is what a pollution would plant. */
const { tree } = fc.letrec<{ tree: Tree; object: Entries }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('tree'), { maxLength: 6 }),
    tie('object'),
  ),
  object: fc
    .array(fc.tuple(anyKey, fc.oneof(tie('tree'), fc.constant(new Entries([['polluted', 'yes']])))), { maxLength: 6 })
    .map((entries) => new Entries(entries)),
}));

const validList = fc
  .array(fc.string({ unit: 'grapheme', maxLength: 30 }), { maxLength: 8 })
  .map((items): Tree => items);
const badList: fc.Arbitrary<Tree> = fc.oneof(
  tree,
  fc.array(fc.oneof(scalar, tree), { minLength: 1, maxLength: 30 }),
  // A long run of non-strings: the errors must stay few.
  fc.integer({ min: 11, max: 400 }).map((n) => Array.from({ length: n }, (_, i): Tree => (i % 3 === 0 ? 'ok' : i))),
);
const validObject = fc
  .array(
    fc.tuple(
      anyKey.filter((k) => !FORBIDDEN.includes(k)),
      tree,
    ),
    { maxLength: 6 },
  )
  .map((entries) => new Entries(entries));
const badObject: fc.Arbitrary<Tree> = fc.oneof(
  scalar,
  fc.array(tree, { maxLength: 4 }),
  fc
    .tuple(fc.array(fc.tuple(anyKey, tree), { maxLength: 4 }), fc.constantFrom(...FORBIDDEN), tree)
    .map(([entries, forbidden, value]) => new Entries([...entries, [forbidden, value]])),
);

/** Objects mixing the four keys (valid or of the wrong type) with others, in any order, repeats allowed. */
const replyShaped = fc
  .array(
    fc.oneof(
      fc.tuple(fc.constantFrom(...LIST_KEYS), fc.oneof(validList, validList, badList)),
      fc.tuple(fc.constantFrom('memory', 'user_attributes'), fc.oneof(validObject, validObject, badObject)),
      fc.tuple(anyKey, tree),
    ),
    { maxLength: 7 },
  )
  .map((entries) => new Entries(entries));

/** Damage done to otherwise well-formed text: cut short, a byte flipped, junk around it. */
const damaged = fc
  .tuple(
    replyShaped,
    fc.nat(),
    fc.string({ unit: 'binary', maxLength: 3 }),
    fc.constantFrom('cut', 'insert', 'prefix', 'suffix', 'bom'),
  )
  .map(([reply, at, junk, how]) => {
    const text = toText(reply);
    const i = at % (text.length + 1);
    switch (how) {
      case 'cut':
        return text.slice(0, i);
      case 'insert':
        return text.slice(0, i) + junk + text.slice(i);
      case 'prefix':
        return junk + text;
      case 'suffix':
        return text + junk;
      case 'bom':
        return `\uFEFF${text}`;
    }
  });

/** Large inputs: long arrays in the lists, deep nesting inside memory, wide objects. */
const huge = fc
  .tuple(
    fc.constantFrom('strings', 'numbers', 'deep-memory', 'wide-memory', 'deep-top'),
    fc.integer({ min: 10_000, max: 100_000 }),
  )
  .map(([kind, n]) => {
    switch (kind) {
      case 'strings':
        return `{"responses":[${'"x",'.repeat(n)}"y"]}`;
      case 'numbers':
        return `{"quickreplies":[${'1,'.repeat(n)}"y"]}`;
      case 'deep-memory':
        return `{"memory":{"a":${'['.repeat(n)}${']'.repeat(n)}}}`;
      case 'wide-memory':
        return (
          `{"memory":{${Array.from({ length: n / 10 }, (_, i) => `"k${i}":${i}`).join(',')},` +
          '"__proto__":{"polluted":1}}}'
        );
      case 'deep-top':
        return `${'{"memory":'.repeat(n)}{}${'}'.repeat(n)}`;
    }
  });

/** Every object in the reply, iteratively (a deep memory value must not overflow this check). */
function* objectsIn(root: unknown): Generator<object> {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    yield value;
    for (const child of Object.values(value)) stack.push(child);
  }
}

describe(`${validateReply.name} under fuzzing`, () => {
  const sut = validateReply;
  let tried = 0;
  let aPropertyFailed = false;
  /** fc.assert, remembering a failure: a property stops at its first counterexample, so the count is then short. */
  const assert: typeof fc.assert = ((...args: Parameters<typeof fc.assert>) => {
    try {
      return fc.assert(...args);
    } catch (err) {
      aPropertyFailed = true;
      throw err;
    }
  }) as typeof fc.assert;
  const prototypesBefore = [Object.prototype, Array.prototype, Function.prototype].map((p) =>
    Object.getOwnPropertyNames(p).sort(),
  );

  afterAll(() => {
    process.stdout.write(`fuzz: validateReply tried ${tried} inputs\n`);
  });

  /** The properties every input must satisfy, whatever produced it. */
  const check = (body: string): void => {
    tried++;
    let result: ReturnType<typeof validateReply>;
    try {
      result = sut(body);
    } catch (err) {
      throw new Error(`validateReply threw ${String(err)}`);
    }
    expect(result.ok).toBe(meetsContract(body));
    if (!result.ok) {
      expect(result.errors.length).toBeGreaterThan(0);
      expect(result.errors.length).toBeLessThanOrEqual(MAX_ERRORS);
      for (const message of result.errors) {
        expect(typeof message).toBe('string');
        if (message.length > MAX_MESSAGE_LENGTH)
          throw new Error(
            `an error message of ${message.length} characters (at most ${MAX_MESSAGE_LENGTH}): ` +
              `${message.slice(0, 80)}…`,
          );
        expect(message).toMatch(MESSAGE_SUBJECT);
      }
      return;
    }
    const { reply } = result;
    expect(Object.keys(reply).sort()).toEqual(['memory', 'quickreplies', 'responses', 'user_attributes']);
    const parsed = JSON.parse(body) as Record<string, unknown>;
    for (const key of ['responses', 'quickreplies'] as const) {
      const sent = Object.hasOwn(parsed, key) ? (parsed[key] as string[]) : [];
      expect(reply[key].length).toBe(sent.length);
      expect(reply[key].every((item, i) => item === sent[i])).toBe(true);
    }
    for (const key of ['memory', 'user_attributes'] as const) {
      const state = reply[key];
      expect(Object.getPrototypeOf(state)).toBe(Object.prototype);
      expect(Reflect.ownKeys(state).filter((name) => FORBIDDEN.includes(String(name)))).toEqual([]);
      expect(Object.keys(state)).toEqual(Object.hasOwn(parsed, key) ? Object.keys(parsed[key] as object) : []);
    }
    // No accepted reply holds a forbidden key anywhere, and no object of it has another prototype.
    expect(holdsForbiddenKey(reply.memory) || holdsForbiddenKey(reply.user_attributes)).toBe(false);
    for (const object of objectsIn(reply)) {
      const prototype = Object.getPrototypeOf(object);
      if (prototype !== Object.prototype && prototype !== Array.prototype)
        throw new Error(`an object of the reply has the prototype ${String(prototype)}`);
    }
  };

  it('judges arbitrary strings', () => {
    assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.string({ unit: 'binary-ascii', maxLength: 300 }),
          fc.string({ unit: 'grapheme' }),
        ),
        check,
      ),
      { numRuns: 2_000 },
    );
  });

  it('judges arbitrary JSON values, deep and wide', () => {
    const value = fc.oneof(
      fc.jsonValue({ depthSize: 'large', maxDepth: 25 }),
      fc.jsonValue({ depthSize: 'small', stringUnit: 'binary' }),
      fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { minKeys: 20, maxKeys: 200 }),
      fc.array(fc.jsonValue({ maxDepth: 2 }), { minLength: 50, maxLength: 500 }),
    );
    assert(
      fc.property(value, (v) => check(JSON.stringify(v))),
      { numRuns: 2_000 },
    );
  });

  it('judges objects mixing the four keys with wrong types and prototype-shaped keys', () => {
    assert(
      fc.property(replyShaped, fc.boolean(), (reply, escaped) => check(toText(reply, escaped))),
      { numRuns: 3_000 },
    );
  });

  it('judges prototype-shaped keys at every level of a reply that is otherwise valid', () => {
    const polluter = fc.constantFrom(...FORBIDDEN).map((k) => new Entries([[k, new Entries([['polluted', 'yes']])]]));
    const nested = fc.letrec<{ node: Tree }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        polluter,
        fc.tuple(anyKey, tie('node')).map(([k, v]) => new Entries([[k, v]])),
        fc.array(tie('node'), { maxLength: 3 }),
      ),
    })).node;
    const reply = fc
      .tuple(fc.constantFrom('memory', 'user_attributes', 'top'), nested, fc.string({ maxLength: 6 }), fc.boolean())
      .map(([where, node, key, escaped]) => {
        const inside =
          where === 'top'
            ? new Entries([
                ['responses', ['hi']],
                ['__proto__', node],
              ])
            : new Entries([[where, new Entries([[key, node]])]]);
        return toText(inside, escaped);
      });
    assert(fc.property(reply, check), { numRuns: 2_000 });
  });

  it('judges damaged text', () => {
    assert(fc.property(damaged, check), { numRuns: 1_000 });
  });

  it('judges huge arrays, deep nesting and wide objects', () => {
    assert(fc.property(huge, check), { numRuns: 60 });
  });

  it('tried at least 10,000 inputs', () => {
    if (!aPropertyFailed) expect(tried).toBeGreaterThanOrEqual(10_000);
  });

  it('leaves every prototype as it found it', () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(([] as unknown as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
    const prototypesAfter = [Object.prototype, Array.prototype, Function.prototype].map((p) =>
      Object.getOwnPropertyNames(p).sort(),
    );
    expect(prototypesAfter).toEqual(prototypesBefore);
  });
});
