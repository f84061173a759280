import type { CallEvent } from '@hookrunner/contracts';
import {
  createWebhook,
  enqueueCall,
  EventCollector,
  HookrunnerStack,
  pollUntil,
  startEndpoint,
  startHookrunner,
  subscribeEvents,
  TestEndpoint,
  uniqueId,
} from '../support';

/*
 * The circuit breaker per origin, through the whole product: an endpoint that fails opens its
 * origin's circuit after CIRCUIT_MIN_ATTEMPTS attempts, calls then fail at once as circuit_open
 * without a request, the webhook's health shows it, and once CIRCUIT_OPEN_MS has passed a probe
 * to the endpoint (healthy again) closes it.
 */
const OPEN_MS = 2_000;
const MIN_ATTEMPTS = 10;

describe('isolation: circuit breaker per origin', () => {
  let stack: HookrunnerStack;

  beforeAll(async () => {
    stack = await startHookrunner({ CIRCUIT_OPEN_MS: String(OPEN_MS), CIRCUIT_MIN_ATTEMPTS: String(MIN_ATTEMPTS) });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  /** An endpoint whose `/hook` answers 503 while `healthy` is false, a valid reply once it is true. */
  async function switchableEndpoint(): Promise<{ endpoint: TestEndpoint; setHealthy: (healthy: boolean) => void }> {
    const endpoint = await startEndpoint();
    let healthy = false;
    endpoint.script('/hook', (_req, res) => {
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(healthy ? { responses: ['ok'] } : { error: 'down' }));
    });
    return { endpoint, setHealthy: (h) => (healthy = h) };
  }

  async function openCircuit(botId: string, events: EventCollector, endpoint: TestEndpoint): Promise<void> {
    const ids: string[] = [];
    for (let i = 0; i < MIN_ATTEMPTS; i++)
      ids.push(await enqueueCall(stack.api, botId, { webhook: 'hook', userId: `u${i}` }));
    const ended = await events.waitForAll(ids);
    expect(ended.map((e) => e.error?.type)).toEqual(ids.map(() => 'http_status'));
    expect(endpoint.requestsTo('/hook')).toHaveLength(MIN_ATTEMPTS);
  }

  const health = async (botId: string) => (await stack.api.get(`/v1/bots/${botId}/webhooks/hook`)).body.health;

  it('opens on failures, refuses at once as circuit_open naming the origin, closes on a half-open probe', async () => {
    const botId = uniqueId('breaker');
    const { endpoint, setHealthy } = await switchableEndpoint();
    const events = await subscribeEvents(stack.redis.url, botId);
    try {
      await createWebhook(stack.api, botId, {
        name: 'hook',
        method: 'POST',
        url: `${endpoint.url}/hook`,
        timeoutMs: 2_000,
        retry: { attempts: 1, backoffMs: 0 },
      });
      expect(await health(botId)).toEqual({ circuit: 'closed', failureRatio: 0 });
      await openCircuit(botId, events, endpoint);
      const opened = await pollUntil(
        async () => ((await health(botId))?.circuit === 'open' ? health(botId) : undefined),
        {
          message: 'the webhook health never showed the circuit open',
        },
      );
      expect(opened).toEqual({ circuit: 'open', failureRatio: 1, openedAt: expect.any(String) });

      // Open: the call fails without a request reaching the endpoint, and says why and until when.
      const refusedId = await enqueueCall(stack.api, botId, { webhook: 'hook', userId: 'late' });
      const refused = await events.waitFor(refusedId);
      expect(refused).toMatchObject({ type: 'call.failed', attempts: 1, error: { type: 'circuit_open' } });
      expect(refused.error!.message).toContain(endpoint.url);
      expect(refused.error!.message).toMatch(/reopens at \d{4}-\d\d-\d\dT/);
      expect(endpoint.requestsTo('/hook')).toHaveLength(MIN_ATTEMPTS);
      const record = (await stack.api.get(`/v1/calls/${refusedId}`)).body;
      expect(record.attemptLog.map((a: { error?: { type: string } }) => a.error?.type)).toEqual(['circuit_open']);

      // The endpoint recovers; once the circuit is half-open a probe goes out, succeeds and closes it.
      setHealthy(true);
      await pollUntil(async () => (await health(botId))?.circuit === 'half_open', {
        timeoutMs: OPEN_MS + 10_000,
        message: 'never half-open',
      });
      const probeId = await enqueueCall(stack.api, botId, { webhook: 'hook', userId: 'probe' });
      expect(await events.waitFor(probeId)).toMatchObject({ type: 'call.succeeded', responses: ['ok'] });
      expect(await health(botId)).toEqual({ circuit: 'closed', failureRatio: 0 });
      const afterId = await enqueueCall(stack.api, botId, { webhook: 'hook', userId: 'after' });
      expect(await events.waitFor(afterId)).toMatchObject({ type: 'call.succeeded' });
      expect(endpoint.requestsTo('/hook')).toHaveLength(MIN_ATTEMPTS + 2);

      const metrics = await (await fetch(`${stack.api.baseUrl}/metrics`)).text();
      for (const to of ['open', 'half_open', 'closed'])
        expect(metrics).toMatch(new RegExp(`hookrunner_circuit_transitions_total\\{to="${to}"\\} [1-9]`));
      expect(metrics).toMatch(
        /hookrunner_calls_total\{method="POST",outcome="failed",error_type="circuit_open"\} [1-9]/,
      );
    } finally {
      await events.close();
      await endpoint.close();
    }
  });

  it('retries a refused call by the webhook’s policy, so a call that outlives the outage succeeds', async () => {
    const botId = uniqueId('outlive');
    const { endpoint, setHealthy } = await switchableEndpoint();
    const events = await subscribeEvents(stack.redis.url, botId);
    try {
      await createWebhook(stack.api, botId, {
        name: 'hook',
        method: 'POST',
        url: `${endpoint.url}/hook`,
        timeoutMs: 2_000,
        retry: { attempts: 1, backoffMs: 0 },
      });
      await openCircuit(botId, events, endpoint);
      await pollUntil(async () => (await health(botId))?.circuit === 'open', { message: 'the circuit did not open' });
      // Backoff 1 s, 2 s, 4 s...: later tries fall after CIRCUIT_OPEN_MS.
      await stack.api.put(`/v1/bots/${botId}/webhooks/hook`, {
        method: 'POST',
        url: `${endpoint.url}/hook`,
        timeoutMs: 2_000,
        retry: { attempts: 6, backoffMs: 1_000 },
      });
      setHealthy(true);
      const callId = await enqueueCall(stack.api, botId, { webhook: 'hook', userId: 'patient' });
      const event: CallEvent = await events.waitFor(callId, 60_000);
      expect(event).toMatchObject({ type: 'call.succeeded', responses: ['ok'] });
      expect(event.attempts).toBeGreaterThan(1);
      const record = (await stack.api.get(`/v1/calls/${callId}`)).body;
      const types = record.attemptLog.map((a: { error?: { type: string } }) => a.error?.type ?? 'ok');
      expect(types[0]).toBe('circuit_open');
      expect(types[types.length - 1]).toBe('ok');
      expect(endpoint.requestsTo('/hook').filter((r) => r.headers['idempotency-key'] === callId)).toHaveLength(1);
    } finally {
      await events.close();
      await endpoint.close();
    }
  });
});

describe('isolation: circuit breaker off (CIRCUIT_MIN_ATTEMPTS=0)', () => {
  let stack: HookrunnerStack;

  beforeAll(async () => {
    stack = await startHookrunner({ CIRCUIT_MIN_ATTEMPTS: '0' });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('shows no health for a webhook, since nothing tracks its origin', async () => {
    const botId = uniqueId('breaker-off');
    await createWebhook(stack.api, botId, { name: 'hook', method: 'POST', url: 'http://127.0.0.1:9/hook' });

    const one = await stack.api.get(`/v1/bots/${botId}/webhooks/hook`);
    const list = await stack.api.get(`/v1/bots/${botId}/webhooks`);

    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ name: 'hook' });
    expect(one.body).not.toHaveProperty('health');
    expect(list.body.webhooks).toHaveLength(1);
    expect(list.body.webhooks[0]).not.toHaveProperty('health');
  });
});
