import {
  createWebhook,
  enqueueCall,
  HookrunnerStack,
  pollUntil,
  startEndpoint,
  startHookrunner,
  subscribeEvents,
  TestEndpoint,
  uniqueId,
} from '../support';

/*
 * The bulkhead per origin: one worker process never has more than MAX_IN_FLIGHT_PER_ORIGIN calls
 * in flight to one origin; the others wait without holding a worker slot (a call to another origin
 * runs meanwhile, though every slot but one is taken) and without spending an attempt: a call
 * deferred many times still reaches the endpoint once and ends in one event, on its first attempt.
 */
const CAP = 3;
const CONCURRENCY = 4;
const CALLS = 12;

describe('isolation: bulkhead per origin', () => {
  let stack: HookrunnerStack;
  let slow: TestEndpoint;
  let fast: TestEndpoint;
  let release: () => void;
  let inFlight = 0;
  let maxInFlight = 0;

  beforeAll(async () => {
    stack = await startHookrunner({ MAX_IN_FLIGHT_PER_ORIGIN: String(CAP), WORKER_CONCURRENCY: String(CONCURRENCY) });
    [slow, fast] = await Promise.all([startEndpoint(), startEndpoint()]);
    let gate = new Promise<void>((resolve) => (release = resolve));
    slow.script('/hold', async (_req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await gate;
      inFlight--;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ responses: ['done'] }));
    });
    fast.reply('/now', 200, { responses: ['fast'] });
    // Later releases let every held request through at once.
    const open = release;
    release = () => {
      open();
      gate = Promise.resolve();
    };
  });
  afterAll(async () => {
    release?.();
    await stack?.stop();
    await Promise.all([slow?.close(), fast?.close()]);
  });

  it('caps calls in flight to one origin, lets other origins run meanwhile, runs each deferred call once', async () => {
    const botId = uniqueId('bulkhead');
    const events = await subscribeEvents(stack.redis.url, botId);
    try {
      await createWebhook(stack.api, botId, {
        name: 'hold',
        method: 'POST',
        url: `${slow.url}/hold`,
        timeoutMs: 15_000,
        retry: { attempts: 1, backoffMs: 0 },
      });
      await createWebhook(stack.api, botId, {
        name: 'now',
        method: 'POST',
        url: `${fast.url}/now`,
        timeoutMs: 5_000,
        retry: { attempts: 1, backoffMs: 0 },
      });
      const held: string[] = [];
      for (let i = 0; i < CALLS; i++)
        held.push(await enqueueCall(stack.api, botId, { webhook: 'hold', userId: `u${i}` }));
      await pollUntil(() => inFlight === CAP, { message: `the slow origin never had ${CAP} calls in flight` });

      // The held calls take CAP slots; the others are deferred, not parked in the last slot.
      const fastId = await enqueueCall(stack.api, botId, { webhook: 'now', userId: 'other' });
      expect(await events.waitFor(fastId, 20_000)).toMatchObject({ type: 'call.succeeded', responses: ['fast'] });
      expect(inFlight).toBe(CAP);
      const metrics = await (await fetch(`${stack.api.baseUrl}/metrics`)).text();
      expect(metrics).toMatch(/hookrunner_calls_deferred_total\{reason="bulkhead"\} [1-9]/);

      release();
      // Deferred calls come back when their origin's slots should have freed: within 30 s.
      const ended = await events.waitForAll(held, 90_000);
      expect(ended.map((e) => ({ type: e.type, attempts: e.attempts }))).toEqual(
        held.map(() => ({ type: 'call.succeeded', attempts: 1 })),
      );
      expect(maxInFlight).toBe(CAP);
      // Each call reached the endpoint exactly once, and ended in exactly one event.
      const perCall = held.map(
        (id) => slow.requestsTo('/hold').filter((r) => r.headers['idempotency-key'] === id).length,
      );
      expect(perCall).toEqual(held.map(() => 1));
      expect(held.map((id) => events.forCall(id).length)).toEqual(held.map(() => 1));
      const logs = await Promise.all(
        held.map(async (id) => (await stack.api.get(`/v1/calls/${id}`)).body.attemptLog.length),
      );
      expect(logs).toEqual(held.map(() => 1));
    } finally {
      await events.close();
    }
  }, 150_000);
});
