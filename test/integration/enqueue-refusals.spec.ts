import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { keys } from '@hookrunner/redis';
import {
  ApiClient,
  callJobKeyIn,
  createWebhook,
  isRateBucket,
  redisSnapshot,
  SplitDeployment,
  startSplitDeployment,
  uniqueId,
  waitingCallIds,
} from '../support';

/*
 * Every way the enqueue path refuses calls, as a client meets it — the status, the error and
 * Retry-After — and that nothing was written for what it refused: no job, no call record, no
 * idempotency key, no pending rank. The API runs alone (no workers), so anything it enqueued would
 * still be sitting in Redis. Each test has a bot of its own.
 */

const HOOK = 'hook';
const BURST = 3;
const MAX_QUEUE_DEPTH = 500;

describe('enqueue refusals', () => {
  let deployment: SplitDeployment;
  let client: Redis;
  /** An API with the default limits. */
  let roomy: ApiClient;
  /** An API with a rate limit of 1 call/s, bursts of BURST, and MAX_QUEUE_DEPTH waiting calls. */
  let strict: ApiClient;

  beforeAll(async () => {
    deployment = await startSplitDeployment({
      // One partition: the test below that plants a key where a job goes names its queue.
      env: { QUEUE_PARTITIONS: '1' },
      api: [{}, { RATE_LIMIT_PER_BOT: '1', RATE_LIMIT_BURST: String(BURST), MAX_QUEUE_DEPTH: String(MAX_QUEUE_DEPTH) }],
      worker: [],
      results: [],
    });
    ({ client } = deployment);
    [roomy, strict] = deployment.apis;
  });

  afterAll(() => deployment?.stop());

  /** A bot of its own with the webhook HOOK. */
  async function newBot(): Promise<string> {
    const botId = uniqueId('bot');
    await createWebhook(roomy, botId, { name: HOOK, method: 'POST', url: `${deployment.endpoint.url}/hook` });
    return botId;
  }

  const call = (extra: Record<string, unknown> = {}) => ({ webhook: HOOK, userId: 'u1', ...extra });
  const idempotencyKeyExists = async (botId: string, key: string) =>
    (await client.exists(keys.idempotency(botId, key))) === 1;
  /** Call records of every bot. */
  const records = async () => (await client.keys(keys.call('*'))).length;
  /**
   * Every key with its value, less the rate buckets of other bots: metering that expires on its own a
   * few seconds after their last call, perhaps between two snapshots (see isRateBucket). The bucket
   * of `botId` stays in: a refusal takes no token (but see the turn below).
   */
  const snapshotFor = (botId: string) =>
    redisSnapshot(client, (key) => isRateBucket(key) && key !== keys.rateBucket(botId));
  /** The callIds of the bot's pending ranks. */
  const pendingCallIds = async (botId: string) =>
    (await client.zrange(keys.pendingCalls(botId), 0, -1)).map((member) => member.split(':')[1]).sort();

  it('answers 429 queue_full with Retry-After to a batch that would pass MAX_QUEUE_DEPTH; writes nothing', async () => {
    const botId = await newBot();
    const before = await snapshotFor(botId);

    const batch = Array.from({ length: MAX_QUEUE_DEPTH + 1 }, (_, i) => call({ idempotencyKey: `k${i}` }));
    const reply = await strict.post(`/v1/bots/${botId}/calls/batch`, { calls: batch });

    expect(reply.status).toBe(429);
    expect(reply.body).toMatchObject({ error: 'queue_full', message: expect.stringContaining('retry later') });
    expect(reply.headers.get('retry-after')).toBe('5');
    expect(await snapshotFor(botId)).toEqual(before);
    expect(await idempotencyKeyExists(botId, 'k0')).toBe(false);
  });

  it('answers 404 webhook_not_found to a call naming an unknown webhook, and writes nothing', async () => {
    const botId = await newBot();
    const before = await snapshotFor(botId);

    const reply = await roomy.post(`/v1/bots/${botId}/calls`, call({ webhook: 'ghost', idempotencyKey: 'k' }));

    expect(reply.status).toBe(404);
    expect(reply.body).toEqual({
      statusCode: 404,
      error: 'webhook_not_found',
      message: `bot ${botId} has no webhook named "ghost"`,
    });
    expect(await snapshotFor(botId)).toEqual(before);
  });

  it('refuses a whole turn with 404 when one of its webhooks is unknown, and writes nothing of it', async () => {
    const botId = await newBot();
    const before = await snapshotFor(botId);

    const reply = await roomy.post(`/v1/bots/${botId}/turns`, {
      userId: 'u1',
      calls: [{ webhook: HOOK }, { webhook: 'ghost' }],
      idempotencyKey: 'turn-key',
    });

    expect(reply.status).toBe(404);
    expect(reply.body).toMatchObject({ error: 'webhook_not_found', message: expect.stringContaining('"ghost"') });
    // No rate token taken, no pending rank, no job, record or idempotency key.
    expect(await snapshotFor(botId)).toEqual(before);
  });

  it('answers an unknown webhook in a batch for that entry alone, and writes nothing for it', async () => {
    const botId = await newBot();
    const waitingBefore = await waitingCallIds(client);
    const recordsBefore = await records();

    const reply = await roomy.post(`/v1/bots/${botId}/calls/batch`, {
      calls: [call({ idempotencyKey: 'a' }), call({ webhook: 'ghost', idempotencyKey: 'b' }), call()],
    });

    expect(reply.status).toBe(202);
    const [first, refused, third] = reply.body.calls as Array<{ callId?: string; error?: unknown }>;
    expect(refused).toEqual({ error: { status: 404, message: `bot ${botId} has no webhook named "ghost"` } });
    const accepted = [first.callId!, third.callId!];
    const waitingNow = await waitingCallIds(client);
    expect(waitingNow.filter((id) => !waitingBefore.includes(id)).sort()).toEqual([...accepted].sort());
    expect(await records()).toBe(recordsBefore + 2);
    expect(await Promise.all(accepted.map((id) => client.exists(keys.call(id))))).toEqual([1, 1]);
    expect(await pendingCallIds(botId)).toEqual([...accepted].sort());
    expect(await client.get(keys.idempotency(botId, 'a'))).toBe(first.callId);
    expect(await idempotencyKeyExists(botId, 'b')).toBe(false);
  });

  it('refuses a batch or a turn larger than RATE_LIMIT_BURST with 429, and writes nothing', async () => {
    const botId = await newBot();
    const before = await snapshotFor(botId);

    const batch = await strict.post(`/v1/bots/${botId}/calls/batch`, {
      calls: Array.from({ length: BURST + 1 }, (_, i) => call({ idempotencyKey: `k${i}` })),
    });
    const turn = await strict.post(`/v1/bots/${botId}/turns`, {
      userId: 'u1',
      calls: Array.from({ length: BURST + 1 }, () => ({ webhook: HOOK })),
    });

    for (const reply of [batch, turn]) {
      expect(reply.status).toBe(429);
      expect(reply.body).toEqual({
        statusCode: 429,
        error: 'rate_limited',
        message: `a batch may hold at most ${BURST} calls (RATE_LIMIT_BURST)`,
      });
      // Waiting would not help: no Retry-After.
      expect(reply.headers.get('retry-after')).toBeNull();
    }
    // The bot's bucket included: the refusal came before any token was taken.
    expect(await snapshotFor(botId)).toEqual(before);
  });

  it('answers 429 rate_limited with Retry-After past the burst; writes nothing for the refused call', async () => {
    const botId = await newBot();
    // The whole burst in one request, so that no token comes back before the next.
    const spent = await strict.post(`/v1/bots/${botId}/calls/batch`, {
      calls: Array.from({ length: BURST }, () => call()),
    });
    expect(spent.body.calls.map((entry: { callId?: string }) => typeof entry.callId)).toEqual(
      Array.from({ length: BURST }, () => 'string'),
    );
    const before = await snapshotFor(botId);

    const reply = await strict.post(`/v1/bots/${botId}/calls`, call({ idempotencyKey: 'late' }));

    expect(reply.status).toBe(429);
    expect(reply.body).toEqual({
      statusCode: 429,
      error: 'rate_limited',
      message: `bot ${botId} may enqueue 1 calls per second (RATE_LIMIT_PER_BOT); retry later`,
    });
    // One token comes back per second at 1 call/s.
    expect(reply.headers.get('retry-after')).toBe('1');
    // The bot's bucket included: the refusal took no token.
    expect(await snapshotFor(botId)).toEqual(before);
  });

  it('answers 503 for the call Redis refused part-way through a batch, keeping the 100 queued before it', async () => {
    const botId = await newBot();
    // A call whose idempotency key was claimed 10 s ago by a request that died before adding it:
    // this batch adds it again, under that callId, alone in the batch's second chunk of 100. A
    // key that is not a job hash where its job goes makes Redis refuse that add (BullMQ reads the
    // "existing job" with HGET: WRONGTYPE) after the first chunk is in.
    const revived = randomUUID();
    await client.set(keys.idempotency(botId, 'last'), revived, 'PX', 24 * 3_600_000 - 10_000);
    const jobKey = callJobKeyIn(0, revived);
    await client.set(jobKey, 'not a job');
    const waitingBefore = await waitingCallIds(client);

    const reply = await roomy.post(`/v1/bots/${botId}/calls/batch`, {
      calls: [...Array.from({ length: 100 }, () => call()), call({ idempotencyKey: 'last' })],
    });

    expect(reply.status).toBe(202);
    const entries = reply.body.calls as Array<{ callId?: string; error?: { status: number; message: string } }>;
    const queued = entries.slice(0, 100).map((entry) => entry.callId!);
    expect(queued.every((id) => typeof id === 'string')).toBe(true);
    expect(entries[100]).toEqual({
      error: {
        status: 503,
        message: 'Redis failed before this call was enqueued; retry it',
      },
    });
    // The first chunk stays queued, each call with its record.
    const waitingNow = await waitingCallIds(client);
    expect(waitingNow.filter((id) => !waitingBefore.includes(id)).sort()).toEqual([...queued].sort());
    expect(await Promise.all(queued.map((id) => client.exists(keys.call(id))))).toEqual(queued.map(() => 1));
    // The refused call: no job, no record, no pending rank.
    expect(waitingNow).not.toContain(revived);
    expect(await client.get(jobKey)).toBe('not a job');
    expect(await client.exists(keys.call(revived))).toBe(0);
    expect(await pendingCallIds(botId)).toEqual([...queued].sort());
    // Its idempotency key was another request's claim, not this one's: it still names the call.
    expect(await client.get(keys.idempotency(botId, 'last'))).toBe(revived);
  });

  it('keeps the keys of the chunk Redis failed on: a retry finds the call it queued, not a second', async () => {
    const botId = await newBot();
    // As above, a planted key makes Redis refuse the revived call's add; the keyed call beside it in
    // the same chunk of 100 is added all the same (a MULTI runs the rest of its commands), though
    // the whole chunk is answered 503.
    const revived = randomUUID();
    await client.set(keys.idempotency(botId, 'stale'), revived, 'PX', 24 * 3_600_000 - 10_000);
    await client.set(callJobKeyIn(0, revived), 'not a job');

    const reply = await roomy.post(`/v1/bots/${botId}/calls/batch`, {
      calls: [
        ...Array.from({ length: 100 }, () => call()),
        call({ idempotencyKey: 'stale' }),
        call({ idempotencyKey: 'fresh' }),
      ],
    });

    expect(reply.status).toBe(202);
    const entries = reply.body.calls as Array<{ error?: { status: number } }>;
    expect(entries.slice(100).map((entry) => entry.error?.status)).toEqual([503, 503]);
    const queuedAnyway = await client.get(keys.idempotency(botId, 'fresh'));
    expect(queuedAnyway).toEqual(expect.any(String));
    expect(await waitingCallIds(client)).toContain(queuedAnyway);

    // The entry retried with its key, as the 503 asks: the same call, still queued once.
    const retried = await roomy.post(`/v1/bots/${botId}/calls`, call({ idempotencyKey: 'fresh' }));

    expect(retried.status).toBe(202);
    expect(retried.body.callId).toBe(queuedAnyway);
    expect((await waitingCallIds(client)).filter((id) => id === queuedAnyway)).toHaveLength(1);
    expect(await client.exists(keys.call(queuedAnyway!))).toBe(1);
  });
});
