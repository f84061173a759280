import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import {
  ApiClient,
  createWebhook,
  EventCollector,
  SplitDeployment,
  startSplitDeployment,
  streamEntriesFor,
  TestEndpoint,
  waitForIdleQueues,
} from '../support';

/*
 * The item 8: many requests racing with one idempotencyKey make one call — one callId,
 * one request to the endpoint, one event — whether they come as single POSTs or inside batches.
 */

const BOT = 'idempotency-bot';
const RACERS = 50;

describe('idempotency under races', () => {
  let deployment: SplitDeployment;
  let client: Redis;
  let endpoint: TestEndpoint;
  let events: EventCollector;
  let http: ApiClient;

  beforeAll(async () => {
    deployment = await startSplitDeployment();
    ({ client, endpoint, api: http } = deployment);
    endpoint.reply('/hook', 200, { responses: ['once'], memory: { counted: 1 } });
    events = await deployment.subscribe(BOT);
    await createWebhook(http, BOT, {
      name: 'hook',
      method: 'POST',
      url: `${endpoint.url}/hook`,
      timeoutMs: 5_000,
      retry: { attempts: 3, backoffMs: 100 },
    });
  });

  afterAll(() => deployment?.stop());

  /** After the call's event and idle queues: what the endpoint, the channel and the stream saw of it. */
  async function traces(callId: string): Promise<{ requests: number; events: number; streamEntries: number }> {
    await events.waitFor(callId, 10_000);
    await waitForIdleQueues(client);
    return {
      requests: endpoint.requestsTo('/hook').filter((r) => r.headers['idempotency-key'] === callId).length,
      events: events.forCall(callId).length,
      streamEntries: (await streamEntriesFor(client, callId)).length,
    };
  }

  it(`makes one call of ${RACERS} concurrent POSTs with one idempotencyKey`, async () => {
    const body = { webhook: 'hook', userId: 'racer', idempotencyKey: 'one-key' };
    const replies = await Promise.all(Array.from({ length: RACERS }, () => http.post(`/v1/bots/${BOT}/calls`, body)));

    expect(replies.map((r) => r.status)).toEqual(replies.map(() => 202));
    const callIds = new Set(replies.map((r) => r.body.callId));
    expect(callIds.size).toBe(1);
    const [callId] = callIds;

    expect(await traces(callId)).toEqual({ requests: 1, events: 1, streamEntries: 1 });
    expect(events.forCall(callId)[0]).toMatchObject({
      type: 'call.succeeded',
      userId: 'racer',
      memory: { counted: 1 },
    });
  });

  it('makes one call of a key repeated inside a batch, and across concurrent batches', async () => {
    const entry = { webhook: 'hook', userId: 'batcher', idempotencyKey: 'batch-key' };
    const other = { webhook: 'hook', userId: 'batcher', idempotencyKey: 'other-key' };
    const batches = await Promise.all(
      Array.from({ length: 10 }, () =>
        http.post(`/v1/bots/${BOT}/calls/batch`, { calls: [entry, entry, other, entry, other] }),
      ),
    );

    expect(batches.map((b) => b.status)).toEqual(batches.map(() => 202));
    const ids = (position: number[]) => new Set(batches.flatMap((b) => position.map((i) => b.body.calls[i].callId)));
    const keyed = ids([0, 1, 3]);
    const others = ids([2, 4]);
    expect(keyed.size).toBe(1);
    expect(others.size).toBe(1);
    const [callId] = keyed;
    const [otherId] = others;
    expect(otherId).not.toBe(callId);

    expect(await traces(callId)).toEqual({ requests: 1, events: 1, streamEntries: 1 });
    expect(await traces(otherId)).toEqual({ requests: 1, events: 1, streamEntries: 1 });
  });

  // A replay that saw no record yet used to enqueue the call again at once; when the claimant's job
  // had run and been removed in between, the endpoint was called twice. Rounds make that window
  // likely to be hit (it was, within 30 rounds, every time).
  it('makes one call of a key raced by concurrent batches, round after round', async () => {
    for (let round = 0; round < 30; round++) {
      const entry = { webhook: 'hook', userId: 'batcher', idempotencyKey: `stress-${round}` };
      const batches = await Promise.all(
        Array.from({ length: 10 }, () => http.post(`/v1/bots/${BOT}/calls/batch`, { calls: [entry, entry, entry] })),
      );
      const callId = batches[0].body.calls[0].callId;
      expect(await traces(callId)).toEqual({ requests: 1, events: 1, streamEntries: 1 });
    }
  }, 120_000);

  it('enqueues the call of a key whose claimant died before adding it, under the callId it claimed', async () => {
    // What a request leaves behind when its process dies between claiming the key and adding the
    // job: the key names a callId that has no job and no record. Claimed 10 s ago.
    const orphan = randomUUID();
    await client.set(`hookrunner:bot:{${BOT}}:idem:orphan-key`, orphan, 'PX', 24 * 3600_000 - 10_000);

    const replies = await Promise.all(
      Array.from({ length: 5 }, () =>
        http.post(`/v1/bots/${BOT}/calls`, { webhook: 'hook', userId: 'orphan', idempotencyKey: 'orphan-key' }),
      ),
    );

    expect(replies.map((r) => [r.status, r.body.callId])).toEqual(replies.map(() => [202, orphan]));
    expect(await traces(orphan)).toEqual({ requests: 1, events: 1, streamEntries: 1 });
    expect(events.forCall(orphan)[0]).toMatchObject({ type: 'call.succeeded', userId: 'orphan' });
  });
});
