import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { CallErrorType, eventsChannel, type AttemptRecord } from '@hookrunner/contracts';
import { CallRepository, defineScripts, keys } from '@hookrunner/redis';
import { pollUntil, startRedis, type TestRedis } from '../support';

/*
 * Every Lua script against a real Redis, one script at a time, through the typed commands
 * defineScripts gives a client. Each test uses ids of its own, so tests never see each other's keys.
 */
let redis: TestRedis;
let client: Redis;
/** Pub/sub followers, closed in afterAll even when a test fails before it closes its own. */
const followers = new Set<Redis>();

beforeAll(async () => {
  redis = await startRedis();
  client = defineScripts(redis.client());
});

afterAll(async () => {
  await Promise.all([...followers].map((follower) => follower.quit()));
  await redis?.stop();
});

const fresh = (label: string) => `${label}-${randomUUID()}`;

/** A hash as HGETALL returns it, flat or (cjson's empty table) `{}`, as an object. */
function fromPairs(flat: string[] | object): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(flat)) for (let i = 0; i < flat.length; i += 2) out[flat[i]] = flat[i + 1];
  return out;
}

describe('merge-state', () => {
  const MARKER_TTL = 600;

  function user() {
    const [botId, userId, callId] = [fresh('bot'), fresh('user'), fresh('call')];
    const session = keys.session(botId, userId, 'default');
    const profile = keys.profile(botId, userId);
    const merge = (run: number, memory: string[], attributes: string[], opts = { ttl: 3600, maxFields: 1000 }) =>
      client.hookrunnerMergeState(
        session,
        profile,
        keys.applied(botId, userId, callId, run),
        opts.ttl,
        MARKER_TTL,
        opts.maxFields,
        memory.length / 2,
        ...memory,
        attributes.length / 2,
        ...attributes,
      );
    const stored = async () => ({ memory: await client.hgetall(session), profile: await client.hgetall(profile) });
    return { session, profile, marker: keys.applied(botId, userId, callId, 0), merge, stored };
  }

  const parse = (raw: string) => {
    const state = JSON.parse(raw) as { memory: string[] | object; profile: string[] | object; rejected?: string };
    return { ...state, memory: fromPairs(state.memory), profile: fromPairs(state.profile) };
  };

  it('merges set and delete into the session and the profile, and returns the state after the merge', async () => {
    const u = user();
    await client.hset(u.session, 'a', '1', 'gone', '"x"');
    await client.hset(u.profile, 'tier', '"silver"', 'city', '"Oslo"');

    const raw = await u.merge(0, ['b', '{"n":2}', 'gone', '', 'never', ''], ['tier', '"gold"']);

    const after = { memory: { a: '1', b: '{"n":2}' }, profile: { tier: '"gold"', city: '"Oslo"' } };
    expect(parse(raw)).toEqual(after);
    expect(await u.stored()).toEqual(after);
    expect(await client.get(u.marker)).toBe(raw);
    const markerTtl = await client.ttl(u.marker);
    expect(markerTtl > 0 && markerTtl <= MARKER_TTL).toBe(true);
  });

  it('returns the stored state for a second run of the same marker and writes nothing', async () => {
    const u = user();
    const first = await u.merge(0, ['a', '1'], ['tier', '"gold"']);
    // A shorter expiry than the merge sets: a second write would show as a longer TTL.
    await client.expire(u.session, 50);

    const second = await u.merge(0, ['a', '', 'b', '2'], ['tier', '"bronze"']);

    expect(second).toBe(first);
    expect(await u.stored()).toEqual({ memory: { a: '1' }, profile: { tier: '"gold"' } });
    expect(await client.ttl(u.session)).toBeLessThanOrEqual(50);
  });

  it('deletes the session once its last field is deleted', async () => {
    const u = user();
    await client.hset(u.session, 'only', '"x"');

    const raw = await u.merge(0, ['only', ''], []);

    expect(parse(raw)).toEqual({ memory: {}, profile: {} });
    expect(await client.exists(u.session, u.profile)).toBe(0);
  });

  it("refreshes the session's expiry, and leaves the profile without one", async () => {
    const u = user();
    await client.hset(u.session, 'a', '1');
    await client.expire(u.session, 10);

    await u.merge(0, [], ['tier', '"gold"'], { ttl: 3600, maxFields: 1000 });

    expect(await client.ttl(u.session)).toBeGreaterThan(10);
    expect(await client.ttl(u.session)).toBeLessThanOrEqual(3600);
    expect(await client.ttl(u.profile)).toBe(-1);
  });

  it('refuses a merge over maxFields, changes nothing, and remembers the refusal', async () => {
    const u = user();
    await client.hset(u.session, 'a', '1', 'b', '2');
    const limits = { ttl: 3600, maxFields: 3 };

    const raw = await u.merge(0, ['c', '3', 'd', '4', 'a', '9'], ['tier', '"gold"'], limits);

    const unchanged = { memory: { a: '1', b: '2' }, profile: {} };
    expect(parse(raw)).toEqual({ ...unchanged, rejected: 'memory' });
    expect(await u.stored()).toEqual(unchanged);
    expect(await client.get(u.marker)).toBe(raw);
    // Still refused when replayed, even with a reply that would now fit.
    expect(await u.merge(0, ['c', '3'], [], limits)).toBe(raw);
    expect(await u.stored()).toEqual(unchanged);
  });

  it('refuses a profile over maxFields without merging the memory of the same reply', async () => {
    const u = user();
    await client.hset(u.profile, 'p1', '1', 'p2', '2');

    const raw = await u.merge(0, ['m', '1'], ['p3', '3', 'p4', '4'], { ttl: 3600, maxFields: 3 });

    expect(parse(raw)).toEqual({ memory: {}, profile: { p1: '1', p2: '2' }, rejected: 'profile' });
    expect(await u.stored()).toEqual({ memory: {}, profile: { p1: '1', p2: '2' } });
  });

  it('counts deletes and overwrites, so a merge that ends at exactly maxFields is applied', async () => {
    const u = user();
    await client.hset(u.session, 'a', '1', 'b', '2', 'c', '3');

    const raw = await u.merge(0, ['a', '', 'd', '4', 'b', '20'], [], { ttl: 3600, maxFields: 3 });

    expect(parse(raw)).toEqual({ memory: { b: '20', c: '3', d: '4' }, profile: {} });
  });

  it('does not count deleting a field that is not there as making room', async () => {
    const u = user();
    await client.hset(u.session, 'a', '1', 'b', '2', 'c', '3');

    const raw = await u.merge(0, ['never', '', 'd', '4'], [], { ttl: 3600, maxFields: 3 });

    expect(parse(raw)).toEqual({ memory: { a: '1', b: '2', c: '3' }, profile: {}, rejected: 'memory' });
  });
});

describe('publish-event', () => {
  async function follow(botId: string) {
    // Not from redis.client(): stop() would disconnect it again once quit, leaving a timer behind.
    const subscriber = new Redis(redis.url);
    followers.add(subscriber);
    const messages: string[] = [];
    subscriber.on('message', (_channel: string, message: string) => messages.push(message));
    await subscriber.subscribe(eventsChannel(botId));
    /** Every message up to a sentinel published last: channel order makes that all there will be. */
    const drained = async () => {
      const sentinel = fresh('sentinel');
      await client.publish(eventsChannel(botId), sentinel);
      await pollUntil(() => messages.includes(sentinel), { timeoutMs: 5_000, message: 'sentinel message' });
      return messages.filter((m) => m !== sentinel);
    };
    const close = async () => {
      followers.delete(subscriber);
      await subscriber.quit();
    };
    return { drained, close };
  }

  const publish = (botId: string, callId: string, run: number, event: string, stream: string = keys.eventsStream) =>
    client.hookrunnerPublishEvent(
      keys.published(callId, run),
      stream,
      600,
      10_000,
      eventsChannel(botId),
      event,
      'call.succeeded',
      botId,
      'callId',
      callId,
    );

  async function entriesOf(callId: string) {
    const entries = await client.xrange(keys.eventsStream, '-', '+');
    return entries.filter(([, fields]) => fields.includes(callId)).map(([, fields]) => fields);
  }

  it('publishes and appends once per marker', async () => {
    const [botId, callId] = [fresh('bot'), fresh('call')];
    const subscriber = await follow(botId);
    const event = JSON.stringify({ type: 'call.succeeded', botId, callId });

    expect(await publish(botId, callId, 0, event)).toBe(1);
    expect(await publish(botId, callId, 0, JSON.stringify({ again: true }))).toBe(0);

    expect(await subscriber.drained()).toEqual([event]);
    expect(await entriesOf(callId)).toEqual([
      ['type', 'call.succeeded', 'botId', botId, 'callId', callId, 'event', event],
    ]);
    const markerTtl = await client.ttl(keys.published(callId, 0));
    expect(markerTtl > 0 && markerTtl <= 600).toBe(true);
    await subscriber.close();
  });

  it('publishes again for a new run of the same call', async () => {
    const [botId, callId] = [fresh('bot'), fresh('call')];
    const subscriber = await follow(botId);

    expect(await publish(botId, callId, 0, '{"run":0}')).toBe(1);
    expect(await publish(botId, callId, 1, '{"run":1}')).toBe(1);

    expect(await subscriber.drained()).toEqual(['{"run":0}', '{"run":1}']);
    expect((await entriesOf(callId)).map((fields) => fields[7])).toEqual(['{"run":0}', '{"run":1}']);
    await subscriber.close();
  });

  it('trims the stream to about streamMaxLen', async () => {
    // A stream of this test's own: trimming the shared one would drop other tests' entries.
    const [botId, stream] = [fresh('bot'), fresh('stream')];
    for (let run = 0; run < 250; run++) {
      const marker = fresh('marker');
      await client.hookrunnerPublishEvent(
        marker,
        stream,
        600,
        10,
        eventsChannel(botId),
        '{}',
        't',
        botId,
        'callId',
        'c',
      );
    }
    const length = await client.xlen(stream);
    expect(length).toBeGreaterThanOrEqual(10);
    expect(length).toBeLessThan(250);
  });
});

describe('admit-calls', () => {
  const DEFINITIONS = { alpha: '{"name":"alpha"}', gamma: '{"name":"gamma"}' };

  async function bot() {
    const botId = fresh('bot');
    await client.hset(keys.webhooks(botId), DEFINITIONS);
    const bucket = keys.rateBucket(botId);
    const pending = keys.pendingCalls(botId);
    const now = Date.now();
    // The names once, then (callId, 1-based name index) per call, as enqueue sends them.
    const admitWith = (allOrNothing: boolean, perSecond: number, burst: number, calls: [string, number][]) => {
      const names = calls.map(([name]) => name);
      const perCall = calls.flatMap(([, n], i) => Array.from({ length: n }, () => [fresh('call'), i + 1]).flat());
      return client.hookrunnerAdmitCalls(
        bucket,
        keys.webhooks(botId),
        pending,
        perSecond,
        burst,
        now,
        now - 3_600_000,
        allOrNothing ? 1 : 0,
        names.length,
        ...names,
        ...perCall,
      );
    };
    const admit = (perSecond: number, burst: number, ...calls: [string, number][]) =>
      admitWith(false, perSecond, burst, calls);
    const admitTurn = (perSecond: number, burst: number, ...calls: [string, number][]) =>
      admitWith(true, perSecond, burst, calls);
    return { bucket, admit, admitTurn, pending };
  }

  it('returns the definitions in the order named, null for unknown ones; perSecond 0 takes no tokens', async () => {
    const { bucket, admit } = await bot();

    expect(await admit(0, 0, ['gamma', 1], ['nope', 1], ['alpha', 1000])).toEqual([
      1,
      0,
      DEFINITIONS.gamma,
      null,
      DEFINITIONS.alpha,
    ]);
    expect(await client.exists(bucket)).toBe(0);
  });

  it('ranks after the highest pending rank, and records only calls whose webhook exists', async () => {
    const { admit, pending } = await bot();

    expect(await admit(0, 0, ['alpha', 3], ['nope', 2])).toEqual([1, 0, DEFINITIONS.alpha, null]);
    expect(await admit(0, 0, ['gamma', 1])).toEqual([1, 3, DEFINITIONS.gamma]);
    expect(await client.zcard(pending)).toBe(4);
  });

  it('takes tokens only for the calls whose webhook exists, from a bucket that starts full', async () => {
    const { bucket, admit } = await bot();

    expect(await admit(1, 5, ['alpha', 2], ['nope', 10])).toEqual([1, expect.any(Number), DEFINITIONS.alpha, null]);

    expect(await client.hget(bucket, 'tokens')).toBe('3');
    const pttl = await client.pttl(bucket);
    expect(pttl > 0 && pttl <= 5_000 + 1_000).toBe(true);
  });

  it('refuses with the wait for enough tokens, and changes nothing', async () => {
    const { bucket, admit } = await bot();
    await admit(1, 100, ['alpha', 60]);
    const before = await client.hgetall(bucket);
    expect(before.tokens).toBe('40');

    const reply = await admit(1, 100, ['gamma', 50], ['alpha', 20]);

    expect(reply[0]).toBe(0);
    // 30 tokens short at 1 per second: up to 30 s, less what refilled since the first call.
    expect(reply[1]).toBeGreaterThan(0);
    expect(reply[1]).toBeLessThanOrEqual(30_000);
    expect(await client.hgetall(bucket)).toEqual(before);
  });

  it('admits calls to unknown webhooks from an empty bucket: they cost nothing', async () => {
    const { bucket, admit } = await bot();
    await admit(1, 100, ['alpha', 100]);
    const before = await client.hgetall(bucket);

    expect(await admit(1, 100, ['nope', 50])).toEqual([1, expect.any(Number), null]);
    expect(await client.hgetall(bucket)).toEqual(before);
  });

  it('admits none of a turn whose calls name an unknown webhook: no token taken, no call ranked', async () => {
    const { bucket, admit, admitTurn, pending } = await bot();
    await admit(1, 100, ['alpha', 10]);
    const [tokensBefore, pendingBefore] = [await client.hgetall(bucket), await client.zrange(pending, 0, -1)];

    expect(await admitTurn(1, 100, ['gamma', 1], ['nope', 1], ['alpha', 1])).toEqual([
      1,
      0,
      DEFINITIONS.gamma,
      null,
      DEFINITIONS.alpha,
    ]);
    expect(await client.hgetall(bucket)).toEqual(tokensBefore);
    expect(await client.zrange(pending, 0, -1)).toEqual(pendingBefore);

    // A turn whose webhooks all exist is admitted as any calls are.
    expect(await admitTurn(1, 100, ['gamma', 1], ['alpha', 1])).toEqual([1, 10, DEFINITIONS.gamma, DEFINITIONS.alpha]);
    expect(await client.zcard(pending)).toBe(12);
  });

  it("refills at perSecond on Redis's clock, up to burst", async () => {
    const { bucket, admit } = await bot();
    const [seconds] = await client.time();
    const now = Number(seconds) * 1000;

    // Empty two seconds ago: two tokens have come back since.
    await client.hset(bucket, 'tokens', '0', 'at', String(now - 2_000));
    expect(await admit(1, 5, ['alpha', 2])).toEqual([1, expect.any(Number), DEFINITIONS.alpha]);

    // Empty long ago: refilled to burst and no further, so six calls wait for one more token.
    await client.hset(bucket, 'tokens', '0', 'at', String(now - 1_000_000));
    expect(await admit(1, 5, ['alpha', 6])).toEqual([0, 1_000]);
  });
});

describe('release-idempotency-key', () => {
  it('drops the key only while it still names the call', async () => {
    const [botId, callId, other] = [fresh('bot'), fresh('call'), fresh('call')];
    const key = keys.idempotency(botId, fresh('key'));
    await client.set(key, other);

    expect(await client.hookrunnerReleaseIdempotencyKey(key, callId)).toBe(0);
    expect(await client.get(key)).toBe(other);

    expect(await client.hookrunnerReleaseIdempotencyKey(key, other)).toBe(1);
    expect(await client.exists(key)).toBe(0);

    expect(await client.hookrunnerReleaseIdempotencyKey(key, other)).toBe(0);
  });
});

describe('create-webhook', () => {
  it('stores a new name under the limit; refuses a taken name, then a bot at its limit', async () => {
    const webhooks = keys.webhooks(fresh('bot'));

    expect(await client.hookrunnerCreateWebhook(webhooks, 'a', '{"v":1}', 2)).toBe('ok');
    expect(await client.hookrunnerCreateWebhook(webhooks, 'a', '{"v":2}', 2)).toBe('exists');
    expect(await client.hookrunnerCreateWebhook(webhooks, 'b', '{"v":1}', 2)).toBe('ok');
    expect(await client.hookrunnerCreateWebhook(webhooks, 'c', '{"v":1}', 2)).toBe('limit');
    // A taken name is reported as such even at the limit.
    expect(await client.hookrunnerCreateWebhook(webhooks, 'b', '{"v":2}', 2)).toBe('exists');

    expect(await client.hgetall(webhooks)).toEqual({ a: '{"v":1}', b: '{"v":1}' });
  });
});

describe('replace-webhook', () => {
  it('replaces a definition only while it exists', async () => {
    const webhooks = keys.webhooks(fresh('bot'));
    await client.hset(webhooks, 'a', '{"v":1}');

    expect(await client.hookrunnerReplaceWebhook(webhooks, 'a', '{"v":2}')).toBe(1);
    expect(await client.hookrunnerReplaceWebhook(webhooks, 'gone', '{"v":2}')).toBe(0);

    expect(await client.hgetall(webhooks)).toEqual({ a: '{"v":2}' });
  });
});

describe('rotate-signing-secret', () => {
  it("installs a bot's first secret, then keeps the current one as previous on each rotation", async () => {
    const secrets = keys.signingSecrets(fresh('bot'));

    expect(await client.hookrunnerRotateSigningSecret(secrets, 'sealed-1', '2026-01-01T00:00:00.000Z', 111)).toBe(0);
    expect(await client.hgetall(secrets)).toEqual({ current: 'sealed-1', createdAt: '2026-01-01T00:00:00.000Z' });

    expect(await client.hookrunnerRotateSigningSecret(secrets, 'sealed-2', '2026-01-02T00:00:00.000Z', 222)).toBe(1);
    expect(await client.hgetall(secrets)).toEqual({
      current: 'sealed-2',
      createdAt: '2026-01-02T00:00:00.000Z',
      previous: 'sealed-1',
      previousExpiresAt: '222',
    });

    expect(await client.hookrunnerRotateSigningSecret(secrets, 'sealed-3', '2026-01-03T00:00:00.000Z', 333)).toBe(1);
    expect(await client.hgetall(secrets)).toEqual({
      current: 'sealed-3',
      createdAt: '2026-01-03T00:00:00.000Z',
      previous: 'sealed-2',
      previousExpiresAt: '333',
    });
  });
});

describe('turn-part', () => {
  const TTL = 600;

  it('keeps each part once and answers nil until every call of the turn has ended', async () => {
    const parts = keys.turn(fresh('turn'));

    expect(await client.hookrunnerTurnPart(parts, 2, '{"call":2}', 3, TTL)).toBeNull();
    expect(await client.hgetall(parts)).toEqual({ '2': '{"call":2}' });
    const ttl = await client.ttl(parts);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(TTL);

    // A result applied again after a crash keeps the first part.
    expect(await client.hookrunnerTurnPart(parts, 2, '{"call":2,"again":true}', 3, TTL)).toBeNull();
    expect(await client.hookrunnerTurnPart(parts, 1, '{"call":1}', 3, TTL)).toBeNull();
    expect(await client.hgetall(parts)).toEqual({ '1': '{"call":1}', '2': '{"call":2}' });
  });

  it('answers every part in declared order to the last call, and to any call applied again after it', async () => {
    const parts = keys.turn(fresh('turn'));
    await client.hookrunnerTurnPart(parts, 3, '{"call":3}', 3, TTL);
    await client.hookrunnerTurnPart(parts, 1, '{"call":1}', 3, TTL);

    const all = ['{"call":1}', '{"call":2}', '{"call":3}'];
    expect(await client.hookrunnerTurnPart(parts, 2, '{"call":2}', 3, TTL)).toEqual(all);
    expect(await client.hookrunnerTurnPart(parts, 1, '{"call":1,"replayed":true}', 3, TTL)).toEqual(all);
    expect(await client.hgetall(parts)).toEqual({ '1': '{"call":1}', '2': '{"call":2}', '3': '{"call":3}' });
  });

  it('completes a turn of one call at once, and renews the expiry on every call', async () => {
    const single = keys.turn(fresh('turn'));
    expect(await client.hookrunnerTurnPart(single, 1, '{"call":1}', 1, TTL)).toEqual(['{"call":1}']);

    const parts = keys.turn(fresh('turn'));
    await client.hookrunnerTurnPart(parts, 1, '{"call":1}', 2, 5);
    expect(await client.ttl(parts)).toBeLessThanOrEqual(5);
    await client.hookrunnerTurnPart(parts, 1, '{"call":1}', 2, TTL);
    expect(await client.ttl(parts)).toBeGreaterThan(5);
  });
});

describe('call-transition (through CallRepository)', () => {
  const TTL = 3600;
  const ENQUEUED_AT = Date.UTC(2026, 0, 2, 3, 4, 5);
  let calls: CallRepository;

  beforeAll(() => {
    calls = new CallRepository(client);
  });

  const target = (run = 0) => ({
    callId: fresh('call'),
    botId: 'bot-1',
    webhook: 'greet',
    userId: 'user-1',
    sessionId: 'default',
    enqueuedAt: ENQUEUED_AT,
    run,
  });
  type Target = ReturnType<typeof target>;

  const attempt = (run: number, n: number, httpStatus: number): AttemptRecord => ({
    run,
    attempt: n,
    startedAt: new Date(ENQUEUED_AT + n).toISOString(),
    durationMs: 5,
    httpStatus,
  });

  /** 1 when written, else the status the record already had (the script's own reply). */
  async function create(call: Target) {
    const reply = await calls.created(call, TTL);
    return reply.written ? 1 : reply.status;
  }

  async function end(call: Target, status: 'succeeded' | 'failed', ttl = TTL) {
    const lastAttempt = attempt(call.run, 2, status === 'failed' ? 500 : 200);
    const reply = await calls.ended(
      call,
      {
        status,
        attempts: 2,
        finishedAt: ENQUEUED_AT + 1_000,
        lastAttempt,
        ...(status === 'failed'
          ? { error: { type: CallErrorType.HttpStatus, message: 'the endpoint answered 500', httpStatus: 500 } }
          : { result: { responses: ['hi'], quickreplies: [], memory: {}, user_attributes: {} } }),
      },
      ttl,
      `{"type":"call.${status}"}`,
    );
    expect(reply).toEqual({ written: true });
    expect(await client.get(keys.callEvent(call.callId))).toBe(`{"type":"call.${status}"}`);
    return lastAttempt;
  }

  const identity = (call: Target) => ({
    callId: call.callId,
    botId: 'bot-1',
    webhook: 'greet',
    userId: 'user-1',
    sessionId: 'default',
    createdAt: '2026-01-02T03:04:05.000Z',
  });

  it('creates a queued record, and makes create a no-op once a record exists', async () => {
    const call = target();
    expect(await create(call)).toBe(1);
    expect(await calls.find(call.callId)).toEqual({
      call: { ...identity(call), status: 'queued', run: 0, attempts: 0 },
      attemptLog: [],
    });
    const ttl = await client.ttl(keys.call(call.callId));
    expect(ttl > 0 && ttl <= TTL).toBe(true);

    // The worker may write first: the API's create then finds the record and leaves it.
    const raced = target();
    expect(await calls.attemptStarted(raced, 1, TTL)).toEqual({ written: true });
    expect(await create(raced)).toBe('running');
    expect((await calls.find(raced.callId))?.call).toMatchObject({ status: 'running', attempts: 1 });
  });

  it('logs retried attempts, ends the run, and sets the TTL on the record and the log', async () => {
    const call = target();
    await create(call);
    await calls.attemptStarted(call, 1, TTL);
    const first = attempt(0, 1, 503);
    expect(await calls.retrying(call, first, TTL)).toEqual({ written: true });
    await calls.attemptStarted(call, 2, TTL);
    const last = await end(call, 'succeeded', 120);

    expect(await calls.find(call.callId)).toEqual({
      call: {
        ...identity(call),
        status: 'succeeded',
        run: 0,
        attempts: 2,
        finishedAt: '2026-01-02T03:04:06.000Z',
        result: { responses: ['hi'], quickreplies: [], memory: {}, user_attributes: {} },
        lastAttempt: last,
      },
      attemptLog: [first],
    });
    for (const key of [keys.call(call.callId), keys.attempts(call.callId)]) {
      const ttl = await client.ttl(key);
      expect(ttl > 0 && ttl <= 120).toBe(true);
    }
  });

  // A fast attempt that failed wrote the first record as 'retrying' (no running mark), without the
  // run; the next write then compared the run with nil and the script failed for that call for good.
  it('ends a call whose record was first written by a retried attempt, and by a record without a run', async () => {
    const call = target();
    expect(await calls.retrying(call, attempt(0, 1, 500), TTL)).toEqual({ written: true });
    await end(call, 'succeeded');
    expect((await calls.find(call.callId))?.call).toMatchObject({ status: 'succeeded' });

    const legacy = target();
    await client.hset(keys.call(legacy.callId), 'status', 'retrying', 'callId', legacy.callId);
    await end(legacy, 'failed');
    expect((await calls.find(legacy.callId))?.call).toMatchObject({ status: 'failed' });
  });

  it('refuses to advance for an older run, and once the run has ended', async () => {
    const call = target();
    await create(call);
    await calls.attemptStarted({ ...call, run: 1 }, 1, TTL);

    expect(await calls.attemptStarted(call, 3, TTL)).toEqual({ written: false, status: 'running' });
    const late = attempt(0, 3, 503);
    expect(await calls.retrying(call, late, TTL)).toEqual({ written: false, status: 'running' });
    expect((await calls.find(call.callId))?.call).toMatchObject({ status: 'running', run: 1, attempts: 1 });

    const ended = target();
    await create(ended);
    await end(ended, 'failed');
    expect(await calls.attemptStarted(ended, 3, TTL)).toEqual({ written: false, status: 'failed' });
    expect(await calls.retrying(ended, late, TTL)).toEqual({ written: false, status: 'failed' });
    expect(await client.llen(keys.attempts(ended.callId))).toBe(0);
    // A second end of the same run (a result reported twice) keeps the first's event copy.
    const again = { status: 'failed' as const, attempts: 3, finishedAt: ENQUEUED_AT, lastAttempt: late };
    expect(await calls.ended(ended, again, TTL, '{"type":"again"}')).toEqual({ written: false, status: 'failed' });
    expect(await client.get(keys.callEvent(ended.callId))).toBe('{"type":"call.failed"}');
    // A newer run may still advance past an ended one.
    expect(await calls.attemptStarted({ ...ended, run: 1 }, 1, TTL)).toEqual({ written: true });
  });

  it('replays only a failed call at run - 1: the last attempt moves to the log and the end fields clear', async () => {
    const call = target();
    await create(call);
    const first = attempt(0, 1, 500);
    await calls.retrying(call, first, TTL);
    const last = await end(call, 'failed');

    expect(await calls.replayed(call.callId, 2, TTL)).toEqual({ written: false, status: 'failed' });
    expect(await calls.replayed(call.callId, 1, 90)).toEqual({ written: true });
    expect(await calls.find(call.callId)).toEqual({
      call: { ...identity(call), status: 'queued', run: 1, attempts: 0 },
      attemptLog: [first, last],
    });
    for (const key of [keys.call(call.callId), keys.attempts(call.callId)]) {
      const ttl = await client.ttl(key);
      expect(ttl > 0 && ttl <= 90).toBe(true);
    }
    // The old run's event no longer answers a waited enqueue.
    expect(await client.exists(keys.callEvent(call.callId))).toBe(0);
    // The same replay again finds the call queued, not failed.
    expect(await calls.replayed(call.callId, 1, TTL)).toEqual({ written: false, status: 'queued' });
    expect(await client.llen(keys.attempts(call.callId))).toBe(2);
  });

  it('refuses to replay a succeeded call, or a call without a record', async () => {
    const call = target();
    await create(call);
    await end(call, 'succeeded');

    expect(await calls.replayed(call.callId, 1, TTL)).toEqual({ written: false, status: 'succeeded' });
    expect((await calls.find(call.callId))?.call).toMatchObject({ status: 'succeeded', run: 0 });
    expect(await calls.replayed(fresh('call'), 1, TTL)).toEqual({ written: false });
    expect(await calls.exist([call.callId, fresh('call')])).toEqual([true, false]);
  });
});
