import { connect } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import type Redis from 'ioredis';
import { Client, Pool } from 'undici';
import { pollUntil } from '../support/poll';
import { AppProcess, startApp } from '../support/processes';
import { startRedis, TestRedis } from '../support/redis-server';
import { isRateBucket, KeySnapshot, redisSnapshot } from '../support/redis-snapshot';
import { startEndpoint, TestEndpoint } from '../support/endpoint';

/*
 * Hostile input, thrown at every route of the one-process app: random and malformed bodies,
 * paths, queries and headers, then malformed HTTP on a raw socket. Whatever arrives, the API
 * answers below 500 (Redis is up, so not even 503), every 4xx carries a JSON message, the process
 * survives, and Redis changes only where a request was accepted.
 *
 * Each route first runs its whole share of the traffic, recording every violation, so one bug
 * cannot hide the others; then, where something was found, fast-check looks for it again and
 * shrinks it to a minimal request for the report. The suite prints how many requests it tried.
 */

const MAX_BODY_BYTES = 1024 * 1024;
const IN_FLIGHT = 16;
/**
 * Methods sent over the shared keep-alive pool. The others (unknown, lowercase, TRACE...) go out
 * on connections of their own: on the pool they now and then left every connection busy with no
 * request running, though the same requests were answered at once on fresh connections.
 */
const POOLED_METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
/** Longest wait for one answer; the /test route makes an outbound call of at most 10 s first. */
const ANSWER_WITHIN_MS = 15_000;
const KNOWN_BOT = 'known-bot';
const KNOWN_USER = 'known-user';
const RETRY_BOT = 'retry-bot';
/** Bots only the fuzzer writes to; each starts with the definitions w1 and w2. */
const FUZZ_BOTS = ['fz-a', 'fz-b', 'fz-c.d', ':fz_e'];
const NAMES = [
  'w1',
  'w2',
  'w3',
  'hello',
  'café ☕',
  'a/b',
  'a b',
  '..',
  '%41',
  '{{memory.x}}',
  '__proto__',
  'constructor',
  'x'.repeat(128),
];
const USERS = ['u1', 'u2', 'u.3', ':u-4', KNOWN_USER];
const FORBIDDEN = ['__proto__', 'constructor', 'prototype'];

// --- JSON text that may hold `__proto__` (JSON.stringify drops it) --------------------------------

class Entries {
  constructor(readonly entries: [string, Tree][]) {}
}
type Tree = null | boolean | number | string | Tree[] | Entries;

function toText(tree: Tree): string {
  if (tree instanceof Entries)
    return `{${tree.entries.map(([k, v]) => `${JSON.stringify(k)}:${toText(v)}`).join(',')}}`;
  if (Array.isArray(tree)) return `[${tree.map(toText).join(',')}]`;
  return JSON.stringify(tree);
}

/** `arbitrary` about `times` in `outOf` draws, else undefined. */
const now = <T>(times: number, outOf: number, arbitrary: fc.Arbitrary<T>) =>
  fc.oneof({ weight: outOf - times, arbitrary: fc.constant(undefined) }, { weight: times, arbitrary });

/**
 * An object of `required` fields (now and then one missing) and `optional` ones (each present or
 * not), now and then with extra keys, prototype-shaped ones among them.
 */
function objectOf(
  required: Record<string, fc.Arbitrary<Tree>>,
  optional: Record<string, fc.Arbitrary<Tree>> = {},
): fc.Arbitrary<Tree> {
  const extraKey = fc.oneof(fc.constantFrom(...FORBIDDEN, 'extra', 'name', 'toString'), fc.string({ maxLength: 8 }));
  return fc
    .tuple(
      fc.record(required),
      fc.record(optional, { requiredKeys: [] }),
      now(1, 10, Object.keys(required).length > 0 ? fc.constantFrom(...Object.keys(required)) : fc.constant(undefined)),
      now(1, 8, fc.array(fc.tuple(extraKey, junkValue()), { minLength: 1, maxLength: 2 })),
    )
    .map(([present, chosen, missing, extras]) => {
      const entries = Object.entries({ ...present, ...chosen }).filter(([key]) => key !== missing) as [string, Tree][];
      return new Entries(extras ? [...entries, ...extras] : entries);
    });
}

let junkCache: fc.Arbitrary<Tree> | undefined;
/** Any JSON value, with prototype-shaped keys at any depth. */
function junkValue(): fc.Arbitrary<Tree> {
  junkCache ??= fc.letrec<{ tree: Tree }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom<Tree>(null, true, false, 0, -1, 1.5, 1e308, '', ' ', '\u0000', 'GET', 'x'.repeat(300)),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.integer(),
      fc.array(tie('tree'), { maxLength: 4 }),
      fc
        .array(
          fc.tuple(fc.oneof(fc.constantFrom(...FORBIDDEN, 'polluted'), fc.string({ maxLength: 8 })), tie('tree')),
          { maxLength: 4 },
        )
        .map((entries) => new Entries(entries)),
    ),
  })).tree;
  return junkCache;
}

/** Mostly `valid`, sometimes anything. */
const field = (valid: fc.Arbitrary<Tree>, invalid: fc.Arbitrary<Tree> = junkValue()) =>
  fc.oneof({ weight: 9, arbitrary: valid }, { weight: 1, arbitrary: invalid });

// --- Bodies ------------------------------------------------------------------------------------------

const printable = fc.string({
  unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 40,
});
const identifier = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:'),
  minLength: 1,
  maxLength: 24,
});
const badIdentifier = fc.oneof(
  fc.constantFrom('', 'a/b', '{x}', 'a b', 'é', 'x'.repeat(129)),
  fc.string({ unit: 'binary', maxLength: 12 }),
);
const stringRecord = fc
  .dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 40 }), { maxKeys: 5 })
  .map((d) => new Entries(Object.entries(d)));
const badRecord = fc.oneof(
  junkValue(),
  fc.constantFrom(...FORBIDDEN).map((k) => new Entries([[k, 'x']])),
  fc
    .integer({ min: 101, max: 300 })
    .map((n) => new Entries(Array.from({ length: n }, (_, i): [string, Tree] => [`k${i}`, 'v']))),
  fc.constant(new Entries([['k', 'v'.repeat(8193)]])),
  fc.constant(new Entries([['k'.repeat(257), 'v']])),
);
const headerRecord = fc
  .dictionary(
    fc.constantFrom(
      'x-api-key',
      'authorization',
      'x-trace',
      'content-length',
      'host',
      'transfer-encoding',
      'connection',
      'expect',
      'upgrade',
      'x-{{memory.a}}',
    ),
    fc.constantFrom('v', '{{memory.a}}', 'Bearer x', '1', 'chunked', 'close', 'a\r\nb', 'a\u0000b', 'é'),
    { maxKeys: 3 },
  )
  .map((d) => new Entries(Object.entries(d)));
const stateObject = fc
  .dictionary(
    fc.string({ maxLength: 10 }).filter((k) => !FORBIDDEN.includes(k)),
    fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Tree>,
    { maxKeys: 4 },
  )
  .map((d) => new Entries(Object.entries(d)));
const badStateObject = fc.oneof(
  junkValue(),
  fc.constantFrom(...FORBIDDEN).map((k) => new Entries([[k, new Entries([['polluted', 1]])]])),
  fc.constant(new Entries([['big', 'x'.repeat(64 * 1024)]])),
);

let endpointUrl = 'http://127.0.0.1:1';
/** Where fuzzed definitions point: our endpoint, refused ports, and URLs the API must refuse. */
const url = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .constantFrom('/ok', '/missing', '/fz/{{memory.a}}?q={{user.b}}', '/fail')
      .map((path): Tree => `${endpointUrl}${path}`),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom<Tree>(
      'http://127.0.0.1:1/',
      'http://0.0.0.0:1/',
      'http://[::]:1/',
      'http://2130706433:1/',
      'http://0x7f000001:1/',
      'http://10.0.0.1/',
      'http://169.254.169.254/latest/meta-data',
      'http://[::ffff:10.0.0.1]/',
      'http://metadata.google.internal/',
      'ftp://127.0.0.1/',
      'javascript:alert(1)',
      'file:///etc/passwd',
      'http://',
      'http:///x',
      'http://[::1',
      '//127.0.0.1/',
      'HTTP://127.0.0.1:1/',
      'http://127.0.0.1:99999/',
      'http://user:pass@127.0.0.1:1/',
      'http://ëxample.test:1/',
      `http://127.0.0.1:1/${'a'.repeat(2048)}`,
      'http://{{memory.host}}/',
      'http://127.0.0.1:1/\r\nX: y',
      ' http://127.0.0.1:1/',
    ),
  },
);
const definitionFields = {
  method: field(fc.constantFrom('GET', 'POST'), fc.constantFrom<Tree>('get', 'PUT', 'DELETE', '', 1, null, ['GET'])),
  url: field(url),
};
const definitionOptional = {
  params: field(stringRecord, badRecord),
  headers: field(headerRecord, badRecord),
  timeoutMs: field(
    fc.integer({ min: 100, max: 3000 }),
    fc.constantFrom<Tree>(99, 60_001, 1.5, '1000', -1, 1e308, null, 0),
  ),
  retry: field(
    objectOf({
      attempts: field(fc.integer({ min: 1, max: 2 }), fc.constantFrom<Tree>(0, 11, 2.5, '3')),
      backoffMs: field(fc.integer({ min: 0, max: 100 }), fc.constantFrom<Tree>(-1, 600_001, 'x')),
    }),
  ),
};
const webhookName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<Tree>(...NAMES) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Tree>('', 'a\u0000b', 'tab\there', '\u007f', 'x'.repeat(129)),
  },
);
const createBody = objectOf({ name: field(webhookName), ...definitionFields }, definitionOptional);
const replaceBody = objectOf(definitionFields, { name: field(webhookName), ...definitionOptional });
const callFields = {
  webhook: field(
    fc.constantFrom<Tree>('w1', 'w1', 'w2', 'w2', 'w3', 'hello', 'nope'),
    fc.oneof(junkValue(), fc.constant<Tree>('x'.repeat(129))),
  ),
  userId: field(fc.oneof(fc.constantFrom<Tree>(...USERS), identifier), badIdentifier),
};
const callOptional = {
  sessionId: field(fc.oneof(fc.constant<Tree>('default'), identifier), badIdentifier),
  params: field(stringRecord, badRecord),
  memory: field(stateObject, badStateObject),
  user: field(stateObject, badStateObject),
  idempotencyKey: field(
    fc.oneof(fc.constantFrom<Tree>('k1', 'k2'), printable),
    fc.constantFrom<Tree>('', 'a b', 'é', 'x'.repeat(256)),
  ),
};
const callBody = objectOf(callFields, callOptional);
const batchBody = objectOf({
  calls: field(
    fc.oneof(
      fc.array(fc.oneof({ weight: 5, arbitrary: callBody }, { weight: 1, arbitrary: junkValue() }), {
        minLength: 1,
        maxLength: 12,
      }),
      fc.constant<Tree>(Array(1001).fill(new Entries([]))),
    ),
    fc.oneof(junkValue(), fc.constant<Tree>([])),
  ),
});
const testBody = objectOf(
  {},
  {
    userId: callFields.userId,
    sessionId: callOptional.sessionId,
    params: callOptional.params,
    memory: callOptional.memory,
    user: callOptional.user,
  },
);

/** JSON nested `depth` deep, somewhere in an otherwise plausible body. */
const deepBody = fc
  .record({
    depth: fc.integer({ min: 1, max: 60_000 }),
    shape: fc.constantFrom('array', 'object'),
    at: fc.constantFrom('top', 'memory', 'params', 'extra'),
  })
  .map(({ depth, shape, at }) => {
    const deep =
      shape === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    return at === 'top'
      ? deep
      : `{"name":"w9","method":"GET","url":"http://127.0.0.1:1/","webhook":"w1","userId":"u1","${at}":${deep}}`;
  });

/** Bodies around the size limit: one byte under, at, and over, as JSON and as junk. */
const sizedBody = fc
  .record({
    delta: fc.oneof(fc.integer({ min: -16, max: 16 }), fc.integer({ min: -200_000, max: 200_000 })),
    json: fc.boolean(),
  })
  .map(({ delta, json }) => {
    const size = MAX_BODY_BYTES + delta;
    if (!json) return Buffer.alloc(size, 0x7b);
    const head = '{"name":"big","method":"GET","url":"http://127.0.0.1:1/","memory":{"pad":"';
    return `${head}${'x'.repeat(Math.max(0, size - head.length - 3))}"}}`;
  });

/** What a route's structured body can be turned into: itself, damaged, replaced by junk. */
function bodyFrom(structured: fc.Arbitrary<Tree>): fc.Arbitrary<string | Buffer> {
  return fc.oneof(
    { weight: 40, arbitrary: structured.map(toText) },
    {
      weight: 6,
      arbitrary: fc
        .tuple(structured.map(toText), fc.nat(), fc.string({ unit: 'binary', maxLength: 4 }), fc.boolean())
        .map(([text, at, junk, cut]) => {
          const i = at % (text.length + 1);
          return cut ? text.slice(0, i) : text.slice(0, i) + junk + text.slice(i);
        }),
    },
    { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 3, arbitrary: deepBody },
    { weight: 1, arbitrary: sizedBody },
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        '',
        ' ',
        'null',
        '[]',
        '{}',
        '""',
        '0',
        'true',
        '{"__proto__":{"polluted":1}}',
        '{"constructor":{"prototype":{"polluted":1}}}',
        '{"a":{"__proto__":[]}}',
        '[{"prototype":1}]',
        '\uFEFF{}',
        '{}{}',
        '{"a":1,}',
        "{'a':1}",
        'NaN',
        '[',
        '{"',
        '\u0000',
        '{"a":"\\ud800"}',
        '{"calls":{"length":2}}',
        '{"name":"\\u005f\\u005fproto\\u005f\\u005f"}',
        '{"\\u005f\\u005fproto\\u005f\\u005f":{"polluted":1}}',
      ),
    },
  );
}

// --- Paths, queries, headers --------------------------------------------------------------------

/** Percent-encodes every byte outside the unreserved set (lone surrogates become U+FFFD). */
const encode = (text: string) =>
  [...Buffer.from(text, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
/** Printable ASCII as it is in a path, minus what would end the segment. */
const rawPathChar = fc
  .integer({ min: 0x21, max: 0x7e })
  .map((c) => String.fromCharCode(c))
  .filter((c) => !'/?#'.includes(c));
/** Latin-1 bytes, which undici sends unencoded (and Node's parser refuses). */
const latin1 = fc.string({
  unit: fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 6,
});
const junkSegment = fc.oneof(
  fc.constantFrom(
    '%',
    '%0',
    '%zz',
    '%00',
    '%ff',
    '%c0%af',
    '%e2%82',
    '.',
    '..',
    '%2e%2e',
    '%2F',
    '%2f..%2f',
    '~',
    '%20',
    '+',
    '%u0041',
    '%%',
    '%25',
    '{x}',
    '{',
    '}',
    '|',
    '\\',
    '^',
    '`',
    '"',
    "'",
    '<script>',
    '__proto__',
    'constructor',
    'prototype',
    'hasOwnProperty',
    ';',
    '=',
    '@',
    '*',
    '',
    'a%0d%0aSet-Cookie:x',
    '%F0%9F%98%80',
    '\u00e9',
    '\u00ff\u00fe',
  ),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }).map(encode),
  fc.string({ unit: rawPathChar, minLength: 1, maxLength: 30 }),
  latin1,
  fc.integer({ min: 120, max: 6000 }).map((n) => 'a'.repeat(n)),
  fc.integer({ min: 1, max: 9000 }).map((n) => '%41'.repeat(n)),
);
const botSegment = (bots: string[]) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...bots) },
    { weight: 2, arbitrary: identifier.filter((id) => !RESERVED.has(id)) },
    { weight: 2, arbitrary: junkSegment },
  );
const RESERVED = new Set([KNOWN_BOT, RETRY_BOT]);
const nameSegment = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NAMES).map(encode) },
  { weight: 1, arbitrary: junkSegment },
);
const userSegment = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...USERS) },
  { weight: 1, arbitrary: identifier },
  { weight: 2, arbitrary: junkSegment },
);
const querySuffix = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom('status', 'limit', 'cursor', '__proto__', 'constructor', 'status[]', 'limit[0]', '', 'x'),
        fc.string({ unit: rawPathChar, maxLength: 6 }),
      ),
      fc.oneof(
        fc.constantFrom(
          'failed',
          'FAILED',
          '',
          '0',
          '1',
          '50',
          '100',
          '101',
          '-1',
          '1.5',
          '1e2',
          '0x10',
          '%205',
          'NaN',
          '9'.repeat(30),
          '0:0',
          '1:1',
          '9999999999999999:999999',
          '99999999999999999:1',
          'a:b',
          '1:',
        ),
        fc.string({ unit: 'binary', maxLength: 20 }).map(encode),
        fc.string({ unit: rawPathChar, maxLength: 20 }),
        latin1,
      ),
      fc.boolean(),
    ),
    { maxLength: 5 },
  )
  .map((pairs) => pairs.map(([k, v, eq]) => (eq ? `${k}=${v}` : k)).join('&'));
/** Besides plain application/json, which most requests carry so that their bodies reach validation. */
const CONTENT_TYPES = [
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json;charset=latin1',
  'application/json; charset=utf-16',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/vnd.api+json',
  'application/problem+json',
  '*/*',
  'json',
  '',
  ' application/json',
  'application/json, text/plain',
  'application/jsonx',
  'text/json',
];
/**
 * Extra header names left out: undici refuses or manages these (the raw-socket test covers them);
 * content-type is chosen apart.
 */
const UNSENDABLE = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'expect',
  'host',
  'content-type',
]);
const headers = fc
  .tuple(
    fc.oneof(
      { weight: 6, arbitrary: fc.constant<string | undefined>('application/json') },
      { weight: 1, arbitrary: fc.constant(undefined) },
      { weight: 3, arbitrary: fc.constantFrom<string | undefined>(...CONTENT_TYPES) },
    ),
    fc.array(
      fc.tuple(
        fc.oneof(
          fc.constantFrom(
            'accept',
            'accept-encoding',
            'content-encoding',
            'authorization',
            'x-forwarded-for',
            'x-http-method-override',
            'idempotency-key',
            'cookie',
            'origin',
            'range',
            'te',
          ),
          fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/),
        ),
        fc.oneof(
          fc.constantFrom(
            'gzip',
            'br',
            'deflate',
            'identity',
            '*',
            'application/json',
            'DELETE',
            'Bearer x',
            'bytes=0-1',
            'trailers',
            '\t',
            ' ',
          ),
          fc.string({
            unit: fc
              .integer({ min: 0x20, max: 0xff })
              .filter((c) => c !== 0x7f)
              .map((c) => String.fromCharCode(c)),
            maxLength: 60,
          }),
          fc.integer({ min: 1000, max: 12_000 }).map((n) => 'h'.repeat(n)),
        ),
      ),
      { maxLength: 3 },
    ),
  )
  .map(([contentType, extra]) => {
    const out: Record<string, string> = {};
    for (const [name, value] of extra) if (!UNSENDABLE.has(name)) out[name] = value;
    if (contentType !== undefined) out['content-type'] = contentType;
    return out;
  });

// --- Requests -----------------------------------------------------------------------------------------

type Effect = 'definitions' | 'calls' | 'retry' | 'bot' | 'none';

class FuzzRequest {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly headers: Record<string, string>,
    readonly body: string | Buffer | undefined,
    /** The botId segment as sent, when the route has one. */
    readonly bot: string | undefined,
    /** What a 2xx to this request may change in Redis. */
    readonly effect: Effect,
  ) {}

  withoutBody(): FuzzRequest {
    return new FuzzRequest(this.method, this.path, this.headers, undefined, this.bot, this.effect);
  }

  get bodyBytes(): number {
    return this.body === undefined ? 0 : Buffer.byteLength(this.body);
  }

  /** Counterexamples print short: runs squeezed (`⟨[×2730⟩`), then cut at 300 characters. */
  [fc.toStringMethod](): string {
    const cut = (text: string) => {
      const s = text.replace(/([\s\S]{1,8}?)\1{15,}/g, (run, unit: string) => `⟨${unit}×${run.length / unit.length}⟩`);
      return s.length > 300 ? `${s.slice(0, 300)}…(${text.length} chars)` : s;
    };
    const body =
      this.body === undefined
        ? ''
        : ` body=${cut(JSON.stringify(typeof this.body === 'string' ? this.body : this.body.toString('latin1')))}`;
    return `${this.method} ${cut(this.path)} headers=${cut(JSON.stringify(this.headers))}${body}`;
  }
}

interface Route {
  name: string;
  /** Property runs; each run sends a batch of 8-20 requests at once. */
  runs: number;
  request: fc.Arbitrary<FuzzRequest>;
}

function route(
  name: string,
  runs: number,
  method: string | fc.Arbitrary<string>,
  path: fc.Arbitrary<{ path: string; bot?: string }>,
  opts: { body?: fc.Arbitrary<Tree>; effect?: Effect } = {},
): Route {
  const body = opts.body ? now(11, 12, bodyFrom(opts.body)) : now(1, 2, bodyFrom(junkValue()));
  const request = fc
    .tuple(
      typeof method === 'string' ? fc.constant(method) : method,
      path,
      fc.oneof({ weight: 7, arbitrary: fc.constant('') }, { weight: 3, arbitrary: querySuffix }),
      headers,
      body,
    )
    .map(([m, p, query, h, b]) => {
      const withType =
        b !== undefined && h['content-type'] === undefined && typeof b === 'string'
          ? { ...h, 'content-type': 'application/json' }
          : h;
      return new FuzzRequest(
        m,
        query ? `${p.path}?${query}` : p.path,
        withType,
        m === 'GET' || m === 'HEAD' ? undefined : b,
        p.bot,
        opts.effect ?? 'none',
      );
    });
  return { name, runs, request };
}

const at = (build: (...segments: string[]) => string, ...segments: fc.Arbitrary<string>[]) =>
  fc.tuple(...segments).map((values) => ({ path: build(...values), bot: values[0] }));

function routes(callIds: string[]): Route[] {
  const fuzzBot = botSegment(FUZZ_BOTS);
  const anyBot = botSegment([...FUZZ_BOTS, KNOWN_BOT, KNOWN_BOT]);
  const callId = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...callIds) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: identifier },
    { weight: 2, arbitrary: junkSegment },
  );
  const hooks = (bot: fc.Arbitrary<string>) => at((b) => `/v1/bots/${b}/webhooks`, bot);
  const hook = (bot: fc.Arbitrary<string>, suffix = '') =>
    at((b, n) => `/v1/bots/${b}/webhooks/${n}${suffix}`, bot, nameSegment);
  const byCall = (suffix: string) => fc.tuple(callId).map(([c]) => ({ path: `/v1/calls/${c}${suffix}` }));
  return [
    route('POST /v1/bots/{botId}/webhooks', 140, 'POST', hooks(fuzzBot), { body: createBody, effect: 'definitions' }),
    route('GET /v1/bots/{botId}/webhooks', 40, 'GET', hooks(anyBot)),
    route('GET /v1/bots/{botId}/webhooks/{name}', 50, 'GET', hook(anyBot)),
    route('PUT /v1/bots/{botId}/webhooks/{name}', 90, 'PUT', hook(fuzzBot), {
      body: replaceBody,
      effect: 'definitions',
    }),
    route('POST /v1/bots/{botId}/webhooks/{name}/test', 55, 'POST', hook(anyBot, '/test'), { body: testBody }),
    route(
      'POST /v1/bots/{botId}/calls',
      110,
      'POST',
      at((b) => `/v1/bots/${b}/calls`, fuzzBot),
      { body: callBody, effect: 'calls' },
    ),
    route(
      'POST /v1/bots/{botId}/calls/batch',
      70,
      'POST',
      at((b) => `/v1/bots/${b}/calls/batch`, fuzzBot),
      { body: batchBody, effect: 'calls' },
    ),
    route('GET /v1/calls/{callId}', 50, 'GET', byCall('')),
    route(
      'GET /v1/bots/{botId}/calls?status=failed',
      55,
      'GET',
      at(
        (b, q) => `/v1/bots/${b}/calls?status=failed${q ? `&${q}` : ''}`,
        botSegment([RETRY_BOT, ...FUZZ_BOTS]),
        querySuffix,
      ),
    ),
    route('POST /v1/calls/{callId}/retry', 45, 'POST', byCall('/retry'), { effect: 'retry' }),
    route(
      'GET /v1/bots/{botId}/users/{userId}',
      40,
      'GET',
      at((b, u) => `/v1/bots/${b}/users/${u}`, anyBot, userSegment),
    ),
    route(
      'GET /v1/bots/{botId}/users/{userId}/sessions/{sessionId}',
      40,
      'GET',
      at(
        (b, u, s) => `/v1/bots/${b}/users/${u}/sessions/${s}`,
        anyBot,
        userSegment,
        fc.oneof(fc.constant('default'), junkSegment),
      ),
    ),
    route(
      'GET /v1/bots/{botId}/stats',
      25,
      'GET',
      at((b) => `/v1/bots/${b}/stats`, anyBot),
    ),
    route(
      'POST /v1/bots/{botId}/signing-secret',
      25,
      'POST',
      at((b) => `/v1/bots/${b}/signing-secret`, fuzzBot),
      { effect: 'bot' },
    ),
    route('DELETE /v1/bots/{botId}/webhooks/{name}', 50, 'DELETE', hook(fuzzBot), { effect: 'definitions' }),
    route(
      'other methods and paths',
      60,
      fc.constantFrom(
        'GET',
        'POST',
        'PUT',
        'DELETE',
        'PATCH',
        'OPTIONS',
        'HEAD',
        'TRACE',
        'PROPFIND',
        'FOO',
        'M-SEARCH',
        'PURGE',
        'QUERY',
        'get',
      ),
      fc
        .oneof(
          fc.constantFrom(
            '/',
            '/v1',
            '/v1/',
            '/v2/bots/fz-a/webhooks',
            '//v1/bots/fz-a/webhooks',
            '/V1/BOTS/fz-a/webhooks',
            '/v1/bots/fz-a/webhooks/',
            '/v1/bots/fz-a/webhooks/w1/test/x',
            '/health/..',
            '/ready',
            '/metrics',
            '/v1/bots',
            '/v1/calls',
            '/v1/calls/',
            '/%2e%2e/%2e%2e/etc/passwd',
            '/v1/bots/fz-a/./webhooks',
            '/v1/bots/fz-a/../fz-b/webhooks',
            '*',
          ),
          fc.webPath().map((p) => p || '/'),
          fc.array(junkSegment, { minLength: 1, maxLength: 5 }).map((segments) => `/v1/${segments.join('/')}`),
        )
        .map((path) => ({ path, bot: undefined })),
      { effect: 'none' },
    ),
  ];
}

// --- Sending and judging ---------------------------------------------------------------------------

interface Outcome {
  status?: number;
  text?: string;
  error?: { code: string; message: string };
  /** The server answered `status` to the request's line and headers and closed before reading its body. */
  closedEarly?: boolean;
}

/** Everything sent, and what a 2xx may have changed. */
const ledger = {
  tried: 0,
  /** Raw-socket exchanges, counted apart. */
  raw: 0,
  skipped: 0,
  /** Requests sent again on a fresh connection after the one they went out on was reset. */
  resent: 0,
  /** Times the shared connection pool stopped answering and was replaced. */
  poolsReplaced: 0,
  byStatus: new Map<string, number>(),
  byRoute: new Map<string, Map<string, number>>(),
  definitionsOf: new Set<string>(),
  acceptedBots: new Set<string>(),
  /** Bots an enqueue reached (whatever its answer): their rate bucket counts attempts. */
  meteredBots: new Set<string>(),
  acceptedCalls: new Set<string>(),
  /**
   * Bots and calls of mutating requests whose connection broke before an answer: the server
   * probably never read them, but may have, so what they could have changed is not held against it.
   */
  uncertainBots: new Set<string>(),
  uncertainCalls: new Set<string>(),
};

const decode = (segment: string) => {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
};

/** Why this answer breaks the properties; [] when it does not. */
function problemsOf(req: FuzzRequest, outcome: Outcome, app: AppProcess): string[] {
  const problems: string[] = [];
  if (app.exitedWith) problems.push(`the app exited (${JSON.stringify(app.exitedWith)})`);
  if (outcome.error) {
    // The server may answer 413 and close while an oversized body is still being sent.
    const oversized = req.bodyBytes > MAX_BODY_BYTES && /SOCKET|ECONNRESET|EPIPE/.test(outcome.error.code);
    if (!oversized) problems.push(`no answer (${outcome.error.code}: ${outcome.error.message.slice(0, 120)})`);
    return problems;
  }
  const status = outcome.status!;
  if (status >= 500) problems.push(`answered ${status}: ${outcome.text!.slice(0, 200)}`);
  if (status >= 400 && status < 500 && req.method !== 'HEAD' && !hasMessage(outcome.text!)) {
    problems.push(`answered ${status} without a JSON message: ${JSON.stringify(outcome.text!.slice(0, 200))}`);
  }
  return problems;
}

function hasMessage(text: string): boolean {
  try {
    const body = JSON.parse(text) as { message?: unknown };
    const { message } = body;
    if (typeof message === 'string') return message.length > 0;
    return Array.isArray(message) && message.length > 0 && message.every((m) => typeof m === 'string' && m.length > 0);
  } catch {
    return false;
  }
}

/** One problem per kind: the status and the message, without the parts that vary. */
const kindOf = (problem: string) =>
  problem
    .replace(/"[^"]*"/g, '…')
    .replace(/\d{4,}/g, 'N')
    .slice(0, 160);

/** Notes what a request whose exchange broke might have changed. */
function recordUncertain(req: FuzzRequest): void {
  if (req.effect === 'none') return;
  if (req.bot !== undefined) ledger.uncertainBots.add(decode(req.bot));
  const retried = /^\/v1\/calls\/([^/?]*)\/retry/.exec(req.path);
  if (req.effect === 'retry' && retried) ledger.uncertainCalls.add(decode(retried[1]));
}

function record(routeName: string, req: FuzzRequest, outcome: Outcome): void {
  ledger.tried++;
  const key = outcome.error || outcome.closedEarly ? 'closed' : String(outcome.status);
  ledger.byStatus.set(key, (ledger.byStatus.get(key) ?? 0) + 1);
  const routeCounts = ledger.byRoute.get(routeName) ?? new Map<string, number>();
  ledger.byRoute.set(routeName, routeCounts.set(key, (routeCounts.get(key) ?? 0) + 1));
  const bot = req.bot === undefined ? undefined : decode(req.bot);
  if (req.effect === 'calls' && bot !== undefined) ledger.meteredBots.add(bot);
  if (outcome.status === undefined || outcome.status < 200 || outcome.status >= 300) return;
  if (req.effect === 'definitions' && bot !== undefined) ledger.definitionsOf.add(bot);
  if (req.effect !== 'none' && req.effect !== 'retry' && bot !== undefined) ledger.acceptedBots.add(bot);
  if (req.effect === 'calls' || req.effect === 'retry') {
    let body: { callId?: string; calls?: { callId?: string }[] } = {};
    try {
      body = JSON.parse(outcome.text!);
    } catch {
      // not JSON: no callId to record; the keyspace check will say what it changed
    }
    for (const id of [body.callId, ...(Array.isArray(body.calls) ? body.calls : []).map((c) => c?.callId)])
      if (typeof id === 'string') ledger.acceptedCalls.add(id);
  }
}

// --- Redis keyspace ---------------------------------------------------------------------------------

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

interface Owners {
  /** `botId/userId` of every accepted call. */
  users: Set<string>;
  setupCalls: Set<string>;
  /** Bot and user of each call named by a changed key, as GET /v1/calls/{callId} tells them. */
  calls: Map<string, { botId: string; userId: string }>;
}

const UNCERTAIN = 'a request of this bot broke off unanswered and may have been read';

/** Why a changed key was allowed to change, or undefined when nothing accepted explains it. */
function explain(key: string, owners: Owners, removed: boolean): string | undefined {
  const user = /^hookrunner:user:\{([^/}]*)\/([^}]*)\}:/.exec(key);
  if (user) {
    if (owners.users.has(`${user[1]}/${user[2]}`)) return 'a call of this user was accepted';
    return ledger.uncertainBots.has(user[1]) ? UNCERTAIN : undefined;
  }
  const bot = /^hookrunner:bot:\{([^}]*)\}:(\w+)/.exec(key);
  if (bot) {
    const [, id, kind] = bot;
    // The token bucket counts attempts, accepted or not: metering, not state. It expires when idle.
    if (kind === 'rate') return removed || ledger.meteredBots.has(id) ? 'enqueue attempts are metered' : undefined;
    if (kind === 'webhooks' && ledger.definitionsOf.has(id)) return 'a definition request of this bot was accepted';
    if (kind !== 'webhooks' && ledger.acceptedBots.has(id)) return 'a request of this bot was accepted';
    return ledger.uncertainBots.has(id) ? UNCERTAIN : undefined;
  }
  const call = UUID.exec(key);
  if (call) {
    if (ledger.acceptedCalls.has(call[0])) return 'the call was accepted';
    const owner = owners.calls.get(call[0]);
    if (ledger.uncertainCalls.has(call[0]) || (owner && ledger.uncertainBots.has(owner.botId))) return UNCERTAIN;
    // Completed jobs of the setup calls are removed by BullMQ's retention as later jobs complete.
    if (removed && QUEUE_KEY.test(key) && owners.setupCalls.has(call[0])) return 'retention of a setup job';
    return undefined;
  }
  if (key === 'hookrunner:events') return ledger.acceptedCalls.size > 0 ? 'accepted calls published events' : undefined;
  // Queue-wide bookkeeping (wait/active/completed lists, ids, stalled checks) moves with any job;
  // each job's own keys are checked above.
  if (QUEUE_KEY.test(key)) return 'queue bookkeeping';
  // An origin's circuit breaker counts the attempts of accepted calls (and of the test button).
  const circuit = /^hookrunner:circuit:\{([^}]*)\}$/.exec(key);
  if (circuit)
    return ledger.acceptedCalls.size > 0 || ledger.acceptedBots.size > 0
      ? 'attempts to this origin were made'
      : undefined;
  return undefined;
}

/** BullMQ's keys, of any partition of the queues: `{hookrunner}:…` or `{hookrunner:<p>}:…`. */
const QUEUE_KEY = /^\{hookrunner(:\d+)?\}:/;

// --- Malformed HTTP on a raw socket -----------------------------------------------------------------

/** Sends `bytes`, half-closes, and reads until the server closes: the status line, if any. */
function rawExchange(port: number, bytes: Buffer): Promise<{ status?: number; head: string; hung: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    let done = false;
    const finish = (hung: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const match = /^HTTP\/\d\.\d (\d{3})/.exec(received);
      resolve({ status: match ? Number(match[1]) : undefined, head: received.slice(0, 200), hung });
    };
    const timer = setTimeout(() => finish(true), 10_000);
    socket.on('connect', () => socket.end(bytes));
    socket.on('data', (chunk) => (received += chunk.toString('latin1')));
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

/** The head shared by the POSTs below, which differ only in their framing headers and body. */
const RAW_POST_JSON = 'POST /v1/bots/fz-raw/webhooks HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n';

const RAW_CASES: string[] = [
  'GET / HTTP/1.1\r\n\r\n',
  'GARBAGE\r\n\r\n',
  '\r\n\r\n',
  'GET /health HTTP/1.0\r\n\r\n',
  'GET /health HTTP/2.0\r\nHost: a\r\n\r\n',
  'GET /health HTTP/9.9\r\nHost: a\r\n\r\n',
  'GET /health HTTP/1.1 extra\r\nHost: a\r\n\r\n',
  'GET  /health HTTP/1.1\r\nHost: a\r\n\r\n',
  'get /health HTTP/1.1\r\nHost: a\r\n\r\n',
  'FOO /v1/bots/fz-raw/webhooks HTTP/1.1\r\nHost: a\r\n\r\n',
  'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
  'CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET http://evil.test/v1/bots/fz-raw/webhooks HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET /v1/bots/fz\u0001raw/webhooks HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET /v1/bots/fz raw/webhooks HTTP/1.1\r\nHost: a\r\n\r\n',
  'GET /v1/bots/fz-raw/webhooks HTTP/1.1\r\nHost a\r\n\r\n',
  'GET /v1/bots/fz-raw/webhooks HTTP/1.1\r\nHost : a\r\n\r\n',
  'GET /v1/bots/fz-raw/webhooks HTTP/1.1\r\nHost: a\r\n folded: header\r\n\r\n',
  'GET /v1/bots/fz-raw/webhooks HTTP/1.1\r\nHost: a\r\nX: a\u0000b\r\n\r\n',
  'GET /v1/bots/fz-raw/webhooks HTTP/1.1\nHost: a\n\n',
  'GET /v1/bots/fz-raw/webhooks HTTP/1.1\rHost: a\r\r',
  `GET /v1/bots/fz-raw/webhooks HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`,
  'GET /v1/bots/fz-raw/webhooks HTTP/1.1\r\nHost: a\r\n' +
    `${Array.from({ length: 3000 }, (_, i) => `X${i}: v\r\n`).join('')}\r\n`,
  `GET /v1/bots/${'a'.repeat(70_000)}/webhooks HTTP/1.1\r\nHost: a\r\n\r\n`,
  RAW_POST_JSON + 'Content-Length: abc\r\n\r\n{}',
  RAW_POST_JSON + 'Content-Length: -1\r\n\r\n{}',
  RAW_POST_JSON + 'Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
  RAW_POST_JSON + 'Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
  RAW_POST_JSON + 'Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
  RAW_POST_JSON + 'Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n',
  RAW_POST_JSON + 'Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n',
  RAW_POST_JSON + 'Content-Length: 100\r\n\r\n{"name":',
  RAW_POST_JSON + 'Content-Length: 99999999999999999999\r\n\r\n{}',
  RAW_POST_JSON + `Content-Length: ${MAX_BODY_BYTES + 1}\r\n\r\n{}`,
  RAW_POST_JSON + 'Content-Length: 2\r\nExpect: 100-continue\r\n\r\n{}',
  RAW_POST_JSON + 'Content-Encoding: gzip\r\nContent-Length: 2\r\n\r\n{}',
  'GET /v1/bots/fz-raw/webhooks HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n',
  'GET /v1/bots/fz-raw/webhooks HTTP/1.1\r\nHost: a\r\n\r\n' +
    'GET /v1/bots/fz-raw/webhooks HTTP/1.1\r\nHost: a\r\n\r\nBAD\r\n\r\n',
];

const rawRequest = fc.oneof(
  fc.constantFrom(...RAW_CASES).map((text) => Buffer.from(text, 'latin1')),
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc
    .tuple(
      fc.constantFrom(
        'GET /v1/bots/fz-raw/webhooks HTTP/1.1\r\nHost: a\r\n',
        'POST /v1/bots/fz-raw/calls HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n',
        'GET /',
      ),
      fc.uint8Array({ maxLength: 200 }),
    )
    .map(([head, junk]) => Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(junk)])),
);

// --- The suite ----------------------------------------------------------------------------------------

describe('fuzzing the API', () => {
  let redis: TestRedis;
  let endpoint: TestEndpoint;
  let app: AppProcess;
  let pool: Pool;
  /** Setup and checks go through connections of their own, never queued behind fuzz traffic. */
  let control: Pool;
  let client: Redis;
  let before: Map<string, KeySnapshot>;
  let setupCalls: string[] = [];
  let fuzzRoutes: Route[] = [];
  const started = Date.now();
  const rawByStatus = new Map<string, number>();

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await control.request({
      method,
      path,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? JSON.parse(text) : undefined, text };
  };
  const mustAnswer = async (expected: number, method: string, path: string, body?: unknown) => {
    const reply = await api(method, path, body);
    if (reply.status !== expected) throw new Error(`${method} ${path} answered ${reply.status}: ${reply.text}`);
    return reply.body;
  };
  const finished = (callId: string) =>
    pollUntil(async () => ['succeeded', 'failed'].includes((await api('GET', `/v1/calls/${callId}`)).body?.status), {
      timeoutMs: 20_000,
      message: `call ${callId} did not finish`,
    });

  /**
   * One request, with a deadline of our own. When the shared pool misses it, the pool is replaced
   * (destroying the old one fails whatever it still holds, and those requests are sent again on
   * connections of their own), so a stuck connection cannot hold up the rest of the run.
   */
  const newPool = () => new Pool(`http://127.0.0.1:${app.port}`, { connections: IN_FLIGHT });
  const send = async (req: FuzzRequest, dispatcher: Pool | Client = pool): Promise<Outcome> => {
    const exchanged = dispatcher
      .request({ method: req.method, path: req.path, headers: req.headers, body: req.body })
      .then(async (res): Promise<Outcome> => ({ status: res.statusCode, text: await res.body.text() }))
      .catch((err: Error & { code?: string }): Outcome => ({
        error: { code: err.code ?? err.name, message: err.message },
      }));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Outcome>((resolve) => {
      timer = setTimeout(
        () => resolve({ error: { code: 'NO_ANSWER', message: `no answer within ${ANSWER_WITHIN_MS} ms` } }),
        ANSWER_WITHIN_MS,
      );
    });
    const outcome = await Promise.race([exchanged, late]);
    clearTimeout(timer);
    if (outcome.error?.code === 'NO_ANSWER' && dispatcher === pool) {
      ledger.poolsReplaced++;
      pool = newPool();
      void dispatcher.destroy().catch(() => undefined);
    }
    return outcome;
  };
  const sendFresh = async (req: FuzzRequest): Promise<Outcome> => {
    const fresh = new Client(`http://127.0.0.1:${app.port}`, { pipelining: 0 });
    try {
      return await send(req, fresh);
    } finally {
      await fresh.destroy();
    }
  };
  /**
   * Sends, records, and returns what is wrong with the answer; requests undici refuses to send are
   * skipped. After some error replies the server closes the connection without saying so (no
   * `Connection: close`), and a request already on its way there is reset unread: a request whose
   * exchange broke is sent again, once, on a connection of its own, and that answer is judged.
   * Should that break too while a body was being sent, the server may have refused the request on
   * its line or headers alone and closed before reading the body: the same request without a body
   * then shows what it answered.
   */
  const exchange = async (routeName: string, req: FuzzRequest): Promise<string[]> => {
    let outcome = POOLED_METHODS.has(req.method) ? await send(req) : await sendFresh(req);
    if (outcome.error && /UND_ERR_INVALID_ARG|UND_ERR_NOT_SUPPORTED/.test(outcome.error.code)) {
      ledger.skipped++;
      return [];
    }
    const problems: string[] = [];
    if (outcome.error) {
      recordUncertain(req);
      ledger.resent++;
      outcome = await sendFresh(req);
      if (outcome.error && req.body !== undefined) {
        recordUncertain(req);
        const bareRequest = req.withoutBody();
        const bare = await sendFresh(bareRequest);
        if (bare.status !== undefined && bare.status >= 400 && bare.status < 500)
          outcome = { ...bare, closedEarly: true };
        else {
          record(routeName, bareRequest, bare);
          problems.push(...problemsOf(bareRequest, bare, app));
        }
      }
    }
    record(routeName, req, outcome);
    return [...problems, ...problemsOf(req, outcome, app)];
  };

  beforeAll(async () => {
    [redis, endpoint] = await Promise.all([startRedis(), startEndpoint()]);
    endpointUrl = endpoint.url;
    endpoint.reply('/ok', 200, { responses: ['ok {{memory.n}}'], memory: { n: 1 }, user_attributes: { seen: 'yes' } });
    endpoint.reply('/hello', 200, { responses: ['hi'], memory: { topic: 'fuzz' }, user_attributes: { plan: 'pro' } });
    endpoint.reply('/fail', 400, { error: 'no' });
    app = await startApp('hookrunner', { REDIS_URL: redis.url, LOG_LEVEL: 'warn' });
    pool = newPool();
    control = new Pool(`http://127.0.0.1:${app.port}`, { connections: 2, headersTimeout: 10_000, bodyTimeout: 10_000 });
    client = redis.client();

    // The state the fuzzer may read but never change, and a failed call it may retry.
    await mustAnswer(201, 'POST', `/v1/bots/${KNOWN_BOT}/webhooks`, {
      name: 'hello',
      method: 'POST',
      url: `${endpoint.url}/hello`,
      params: { a: '{{memory.topic}}' },
    });
    await mustAnswer(201, 'POST', `/v1/bots/${RETRY_BOT}/webhooks`, {
      name: 'fail',
      method: 'GET',
      url: `${endpoint.url}/fail`,
      retry: { attempts: 1, backoffMs: 0 },
    });
    for (const bot of FUZZ_BOTS) {
      await mustAnswer(201, 'POST', `/v1/bots/${encodeURIComponent(bot)}/webhooks`, {
        name: 'w1',
        method: 'POST',
        url: `${endpoint.url}/ok`,
        timeoutMs: 1000,
        retry: { attempts: 1, backoffMs: 0 },
      });
      await mustAnswer(201, 'POST', `/v1/bots/${encodeURIComponent(bot)}/webhooks`, {
        name: 'w2',
        method: 'GET',
        url: 'http://127.0.0.1:1/',
        timeoutMs: 500,
        retry: { attempts: 1, backoffMs: 0 },
      });
    }
    const ok = (await mustAnswer(202, 'POST', `/v1/bots/${KNOWN_BOT}/calls`, { webhook: 'hello', userId: KNOWN_USER }))
      .callId as string;
    const failed = (
      await mustAnswer(202, 'POST', `/v1/bots/${RETRY_BOT}/calls`, { webhook: 'fail', userId: 'retry-user' })
    ).callId as string;
    await Promise.all([finished(ok), finished(failed)]);
    setupCalls = [ok, failed];
    // Wait for the last writes of those calls (events, job moves) so that the snapshot holds still.
    before = await pollUntil(
      async () => {
        const first = await redisSnapshot(client);
        const second = await redisSnapshot(client);
        const settled =
          (await client.xlen('hookrunner:events')) === 2 &&
          [...first].every(([k, v]) => QUEUE_KEY.test(k) || isDeepStrictEqual(second.get(k), v));
        return settled ? second : undefined;
      },
      { timeoutMs: 20_000, message: 'the keyspace did not settle after the setup calls' },
    );
    fuzzRoutes = routes(setupCalls);
  }, 60_000);

  afterAll(async () => {
    const histogram = (counts: Map<string, number>) =>
      [...counts]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([status, n]) => `${status}×${n}`)
        .join(' ');
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const skipped = ledger.skipped ? `; ${ledger.skipped} more refused by the HTTP client, not sent` : '';
    const resent = ledger.resent ? `; ${ledger.resent} resent on a fresh connection after a broken exchange` : '';
    const replaced = ledger.poolsReplaced
      ? `; the connection pool stalled and was replaced ${ledger.poolsReplaced}×`
      : '';
    process.stdout.write(
      `fuzz: API tried ${ledger.tried} requests in ${seconds} s: ${histogram(ledger.byStatus)}` +
        `${skipped}${resent}${replaced}\n` +
        `fuzz: API tried ${ledger.raw} malformed raw requests: ${histogram(rawByStatus)}\n` +
        [...ledger.byRoute].map(([name, counts]) => `fuzz:   ${name}: ${histogram(counts)}`).join('\n') +
        '\n',
    );
    // Nothing may wait on a request the server never answered.
    await Promise.all([pool?.destroy(), control?.destroy()]);
    await Promise.all([app?.stop(), endpoint?.close()]);
    await redis?.stop();
  });

  const ROUTE_NAMES = routes(['00000000-0000-4000-8000-000000000000']).map((r) => r.name);

  it.each(ROUTE_NAMES)(
    '%s: never 5xx, always a JSON message with a 4xx',
    async (name) => {
      const fuzz = fuzzRoutes.find((r) => r.name === name)!;
      const found = new Map<string, { problem: string; example: string; count: number }>();
      const batch = fc.array(fuzz.request, { minLength: 8, maxLength: 20, size: 'max' });
      await fc.assert(
        fc.asyncProperty(batch, async (requests) => {
          const results = await Promise.all(
            requests.map(async (req) => ({ req, problems: await exchange(name, req) })),
          );
          for (const { req, problems } of results) {
            for (const problem of problems) {
              const kind = kindOf(problem);
              const seen = found.get(kind);
              if (seen) seen.count++;
              else found.set(kind, { problem, example: String(req[fc.toStringMethod]()), count: 1 });
            }
          }
        }),
        { numRuns: fuzz.runs },
      );
      if (found.size === 0) return;

      // Find it again, one request at a time, and let fast-check shrink it.
      const details = await fc.check(
        fc.asyncProperty(fuzz.request, async (req) => {
          const problems = await exchange(name, req);
          if (problems.length > 0) throw new Error(problems.join('; '));
        }),
        { numRuns: 3_000, interruptAfterTimeLimit: 10_000 },
      );
      const minimal = details.failed
        ? `\nminimal counterexample: ${String(details.counterexample![0][fc.toStringMethod]())}\n` +
          `  → ${(details.errorInstance as Error).message}`
        : '';
      const lines = [...found.values()].map((f) => `- ${f.count}× ${f.problem}\n  e.g. ${f.example}`);
      throw new Error(
        `${name}: ${[...found.values()].reduce((n, f) => n + f.count, 0)} bad answers\n${lines.join('\n')}${minimal}`,
      );
    },
    120_000,
  );

  it('answers malformed HTTP on the wire below 500, or closes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(rawRequest, { minLength: 8, maxLength: 16 }), async (requests) => {
        const seen: string[] = [];
        const replies = await Promise.all(requests.map((bytes) => rawExchange(app.port, bytes)));
        replies.forEach((reply, i) => {
          ledger.raw++;
          const key = reply.status === undefined ? 'closed' : String(reply.status);
          rawByStatus.set(key, (rawByStatus.get(key) ?? 0) + 1);
          const shown = JSON.stringify(requests[i].toString('latin1').slice(0, 200));
          if (reply.hung) seen.push(`no answer and no close within 10 s: ${shown}`);
          if (reply.status !== undefined && reply.status >= 500)
            seen.push(`answered ${JSON.stringify(reply.head)} to ${shown}`);
        });
        if (app.exitedWith) seen.push(`the app exited (${JSON.stringify(app.exitedWith)})`);
        expect(seen).toEqual([]);
      }),
      { numRuns: 25, examples: [[RAW_CASES.map((text) => Buffer.from(text, 'latin1'))]] },
    );
  }, 120_000);

  it('is alive and healthy after the run', async () => {
    expect(app.exitedWith).toBeUndefined();
    expect((await api('GET', '/health')).status).toBe(200);
    expect((await api('GET', '/ready')).status).toBe(200);
    expect(ledger.tried).toBeGreaterThanOrEqual(10_000);
  });

  it('changed only what accepted requests explain', async () => {
    const after = await redisSnapshot(client);
    // Whose each call is, as the API tells it: the body sent may have been anything.
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter(
      (key) => !isDeepStrictEqual(before.get(key), after.get(key)),
    );
    const owners: Owners = { users: new Set(), setupCalls: new Set(setupCalls), calls: new Map() };
    for (const callId of new Set([...ledger.acceptedCalls, ...changed.flatMap((key) => UUID.exec(key)?.[0] ?? [])])) {
      const view = await api('GET', `/v1/calls/${callId}`);
      if (view.status === 200) owners.calls.set(callId, { botId: view.body.botId, userId: view.body.userId });
    }
    for (const callId of [...ledger.acceptedCalls, ...ledger.uncertainCalls]) {
      const owner = owners.calls.get(callId);
      if (!owner) continue;
      owners.users.add(`${owner.botId}/${owner.userId}`);
      ledger.acceptedBots.add(owner.botId);
    }
    const unexplained: string[] = [];
    const reasons = new Map<string, number>();
    for (const key of changed) {
      const change = !after.has(key) ? 'removed' : !before.has(key) ? 'added' : 'changed';
      const reason = explain(key, owners, change === 'removed');
      if (reason) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      else unexplained.push(`${change}: ${key}`);
    }
    process.stdout.write(
      `fuzz: keyspace ${before.size} → ${after.size} keys; ` +
        `${ledger.acceptedCalls.size} calls and ${ledger.definitionsOf.size} bots' definitions accepted; ` +
        'changed keys: ' +
        `${[...reasons].map(([reason, n]) => `${n} (${reason})`).join(', ')}` +
        `${unexplained.length ? `, ${unexplained.length} unexplained` : ''}\n`,
    );
    expect(unexplained).toEqual([]);

    // Bots that never got a 2xx hold nothing, and the bots the fuzzer only read are untouched.
    const setupBots = new Set([KNOWN_BOT, RETRY_BOT, ...FUZZ_BOTS]);
    const strays = [...after.keys()].filter((key) => {
      const bot = /^hookrunner:(?:bot|user):\{([^/}]*)/.exec(key)?.[1];
      const accepted =
        ledger.acceptedBots.has(bot!) || ledger.definitionsOf.has(bot!) || ledger.uncertainBots.has(bot!);
      return bot !== undefined && !setupBots.has(bot) && !accepted;
    });
    expect(strays).toEqual([]);
    const knownKeys = [...before.keys()].filter((k) => k.includes(`{${KNOWN_BOT}`) && !isRateBucket(k));
    expect(knownKeys.length).toBeGreaterThan(0);
    expect(knownKeys.filter((k) => !isDeepStrictEqual(after.get(k), before.get(k)))).toEqual([]);
  }, 60_000);
});
