import Redis from 'ioredis';
import type { WebhookCallJob } from '@hookrunner/contracts';
import {
  ApiClient,
  ApiReply,
  callJobKey,
  pollUntil,
  SplitDeployment,
  startSplitDeployment,
  uniqueId,
  waitingCallIds,
} from '../support';

/*
 * The per-bot rate limit on enqueue: a token bucket in Redis (RATE_LIMIT_PER_BOT calls per
 * second, RATE_LIMIT_BURST at once) shared by every API process. Two API processes and no worker:
 * every accepted call stays in the queue, so what a 429 enqueued can be counted.
 */

const RATE = 5;
const BURST = 5;
const ENDPOINT = 'http://endpoint.invalid/hook';

describe('security: per-bot rate limit', () => {
  let deployment: SplitDeployment;
  let client: Redis;
  let first: ApiClient;
  let second: ApiClient;

  beforeAll(async () => {
    deployment = await startSplitDeployment({
      env: { RATE_LIMIT_PER_BOT: String(RATE), RATE_LIMIT_BURST: String(BURST) },
      api: [{}, {}],
      worker: [],
      results: [],
    });
    ({ client } = deployment);
    [first, second] = deployment.apis;
  });

  afterAll(() => deployment?.stop());

  /** A bot of its own with one webhook: a full bucket. */
  async function newBot(): Promise<string> {
    const botId = uniqueId('bot');
    const created = await first.post(`/v1/bots/${botId}/webhooks`, { name: 'hook', method: 'GET', url: ENDPOINT });
    expect(created.status).toBe(201);
    return botId;
  }

  const enqueue = (http: ApiClient, botId: string, extra: Record<string, unknown> = {}): Promise<ApiReply> =>
    http.post(`/v1/bots/${botId}/calls`, { webhook: 'hook', userId: 'u1', ...extra });

  /** The ids of the jobs waiting in the calls queue for `botId` (nothing consumes them here). */
  async function queuedCalls(botId: string): Promise<string[]> {
    const ids = await waitingCallIds(client);
    const found: string[] = [];
    for (const id of ids) {
      const data = await client.hget((await callJobKey(client, id))!, 'data');
      if (data && (JSON.parse(data) as WebhookCallJob).botId === botId) found.push(id);
    }
    return found.sort();
  }

  function expectRateLimited(reply: ApiReply): void {
    expect(reply.status).toBe(429);
    const retryAfter = reply.headers.get('retry-after');
    expect(retryAfter).toMatch(/^\d+$/);
    // One token comes back every 1/RATE s: the client is told to wait a whole second, no more.
    expect(Number(retryAfter)).toBe(1);
    expect(reply.body.message).toMatch(/RATE_LIMIT_PER_BOT/);
  }

  it(`accepts ${BURST} of 10 calls at once, answers the rest 429 with Retry-After, enqueues only those`, async () => {
    const botId = await newBot();
    const replies = await Promise.all(Array.from({ length: 10 }, () => enqueue(first, botId)));

    const accepted = replies.filter((r) => r.status === 202);
    const refused = replies.filter((r) => r.status !== 202);
    expect(accepted).toHaveLength(BURST);
    for (const reply of refused) expectRateLimited(reply);
    expect(await queuedCalls(botId)).toEqual(accepted.map((r) => r.body.callId as string).sort());
  });

  it('leaves another bot unaffected', async () => {
    const [limited, other] = [await newBot(), await newBot()];
    for (let i = 0; i < BURST; i++) expect((await enqueue(first, limited)).status).toBe(202);
    expectRateLimited(await enqueue(first, limited));

    const replies = await Promise.all(Array.from({ length: BURST }, () => enqueue(first, other)));
    expect(replies.map((r) => r.status)).toEqual(Array(BURST).fill(202));
    expect(await queuedCalls(other)).toHaveLength(BURST);
  });

  it('gives tokens back over time: one after 1/RATE s, a full burst after about a second', async () => {
    const botId = await newBot();
    // From a full bucket, the (BURST + 1)-th token exists 1/RATE s after the first was taken, not before.
    const started = Date.now();
    for (let i = 0; i < BURST; i++) expect((await enqueue(first, botId)).status).toBe(202);
    expectRateLimited(await enqueue(first, botId));

    await pollUntil(async () => (await enqueue(first, botId)).status === 202, {
      timeoutMs: 3_000,
      intervalMs: 20,
      message: 'no token came back',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000 / RATE);

    // Spent again. A client that waits the Retry-After it is given then finds the whole burst back.
    const refused = await pollUntil(
      async () => {
        const reply = await enqueue(first, botId);
        return reply.status === 429 ? { reply, at: Date.now() } : undefined;
      },
      { timeoutMs: 3_000, message: 'the bucket did not empty' },
    );
    const retryAt = refused.at + Number(refused.reply.headers.get('retry-after')) * 1000;
    // The refill is what is under test, so this waits on the clock, for as long as the API said.
    await pollUntil(() => Date.now() >= retryAt, { timeoutMs: 5_000, message: 'Retry-After did not pass' });
    const full = await Promise.all(Array.from({ length: BURST }, () => enqueue(first, botId)));
    expect(full.map((r) => r.status)).toEqual(Array(BURST).fill(202));
  });

  it('shares one bucket between two API processes', async () => {
    const botId = await newBot();
    // Ten at once, half through each process.
    const replies = await Promise.all(
      Array.from({ length: 10 }, (_, i) => enqueue(i % 2 === 0 ? first : second, botId)),
    );
    const accepted = replies.filter((r) => r.status === 202);
    expect(accepted).toHaveLength(BURST);
    for (const reply of replies.filter((r) => r.status !== 202)) expectRateLimited(reply);
    expect(await queuedCalls(botId)).toEqual(accepted.map((r) => r.body.callId as string).sort());

    // A bucket emptied through one process is empty through the other.
    const other = await newBot();
    for (let i = 0; i < BURST; i++) expect((await enqueue(first, other)).status).toBe(202);
    expectRateLimited(await enqueue(second, other));
  });

  it('counts every call of a batch, so the batch route is no way around the limit', async () => {
    const botId = await newBot();
    const calls = (n: number) => ({ calls: Array.from({ length: n }, () => ({ webhook: 'hook', userId: 'u1' })) });
    const accepted = await first.post(`/v1/bots/${botId}/calls/batch`, calls(3));
    expect(accepted.status).toBe(202);
    const before = await queuedCalls(botId);
    expect(before).toHaveLength(3);

    // Two tokens left: a batch of three is refused whole, through either process.
    expectRateLimited(await second.post(`/v1/bots/${botId}/calls/batch`, calls(3)));
    expect(await queuedCalls(botId)).toEqual(before);
    // And a batch larger than the burst can never pass.
    expect((await second.post(`/v1/bots/${botId}/calls/batch`, calls(BURST + 1))).status).toBe(429);
    expect(await queuedCalls(botId)).toEqual(before);
  });

  it('enqueues nothing for a 429: not the job, not its idempotency key', async () => {
    const botId = await newBot();
    for (let i = 0; i < BURST; i++) expect((await enqueue(first, botId)).status).toBe(202);
    const before = await queuedCalls(botId);

    const refused = await enqueue(second, botId, { idempotencyKey: 'order-42' });
    expectRateLimited(refused);
    expect(await queuedCalls(botId)).toEqual(before);

    // Once a token is back, the same key enqueues a new call: the 429 had not claimed it.
    const retried = await pollUntil(
      async () => {
        const reply = await enqueue(second, botId, { idempotencyKey: 'order-42' });
        return reply.status === 202 ? reply : undefined;
      },
      { timeoutMs: 3_000, intervalMs: 50, message: 'the refused call was never accepted' },
    );
    expect(retried.headers.get('idempotent-replayed')).toBeNull();
    expect(await queuedCalls(botId)).toEqual([...before, retried.body.callId].sort());
  });
});
