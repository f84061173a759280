import { partitionOf } from '@hookrunner/isolation';
import {
  createWebhook,
  enqueueCall,
  HookrunnerStack,
  startEndpoint,
  startHookrunner,
  subscribeEvents,
  TestEndpoint,
  uniqueId,
} from '../support';

/*
 * Fair share between bots: a bot with a backlog of hundreds of calls does not make another bot's
 * call wait behind it, whether the two bots share a partition of the calls queue (the quiet call
 * ranks ahead of the backlog) or not (the quiet partition gets its share of the workers). Measured
 * in calls, not time: how many of the flood's calls ended between the quiet call's enqueue and its
 * event. Behind a FIFO it would be nearly the whole backlog.
 */
const PARTITIONS = 4;
const CONCURRENCY = 4;
const FLOOD = 400;

/** A bot id with a given partition (or not), found by trying suffixes. */
function botIn(partition: number, prefix: string): string {
  for (let i = 0; ; i++) {
    const id = uniqueId(`${prefix}${i}`);
    if (partitionOf(id, PARTITIONS) === partition) return id;
  }
}

describe('isolation: fair share between bots', () => {
  let stack: HookrunnerStack;
  let endpoint: TestEndpoint;

  beforeAll(async () => {
    stack = await startHookrunner({
      QUEUE_PARTITIONS: String(PARTITIONS),
      WORKER_CONCURRENCY: String(CONCURRENCY),
      RATE_LIMIT_PER_BOT: '0',
    });
    endpoint = await startEndpoint();
    endpoint.reply('/flood', 200, { responses: ['flood'] }, { delayMs: 50 });
    endpoint.reply('/quiet', 200, { responses: ['quiet'] });
  });
  afterAll(async () => {
    await stack?.stop();
    await endpoint?.close();
  });

  it.each([
    ['in the same partition', true],
    ['in different partitions', false],
  ])('serves a quiet bot’s call ahead of another bot’s backlog, %s', async (_label, same) => {
    const flood = uniqueId('flood');
    const quiet = botIn(
      same ? partitionOf(flood, PARTITIONS) : (partitionOf(flood, PARTITIONS) + 1) % PARTITIONS,
      'quiet',
    );
    const [floodEvents, quietEvents] = await Promise.all([
      subscribeEvents(stack.redis.url, flood),
      subscribeEvents(stack.redis.url, quiet),
    ]);
    try {
      const hook = { method: 'POST', timeoutMs: 5_000, retry: { attempts: 1, backoffMs: 0 } };
      await createWebhook(stack.api, flood, { name: 'flood', url: `${endpoint.url}/flood`, ...hook });
      await createWebhook(stack.api, quiet, { name: 'quiet', url: `${endpoint.url}/quiet`, ...hook });
      const batch = await stack.api.post(`/v1/bots/${flood}/calls/batch`, {
        calls: Array.from({ length: FLOOD }, (_, i) => ({ webhook: 'flood', userId: `u${i % 20}` })),
      });
      expect(batch.status).toBe(202);
      const floodIds: string[] = batch.body.calls.map((c: { callId: string }) => c.callId);

      const passed: number[] = [];
      for (let i = 0; i < 3; i++) {
        const before = floodEvents.events.length;
        const callId = await enqueueCall(stack.api, quiet, { webhook: 'quiet', userId: `q${i}` });
        expect(await quietEvents.waitFor(callId, 30_000)).toMatchObject({
          type: 'call.succeeded',
          responses: ['quiet'],
        });
        passed.push(floodEvents.events.length - before);
      }
      // The flood was still running when the last quiet call ended...
      expect(floodEvents.events.length).toBeLessThan(FLOOD);
      // ...and each quiet call waited for a handful of the flood's calls, not for its backlog.
      for (const n of passed) expect(n).toBeLessThan(FLOOD / 4);
      await floodEvents.waitForAll(floodIds, 120_000);
    } finally {
      await Promise.all([floodEvents.close(), quietEvents.close()]);
    }
  });
});
