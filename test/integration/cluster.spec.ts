import type { CallEvent } from '@hookrunner/contracts';
import {
  ApiClient,
  createWebhook,
  enqueueCall,
  pollUntil,
  SplitDeployment,
  startCluster,
  startSplitDeployment,
  TestCluster,
  TestEndpoint,
} from '../support';

/*
 * Issue 11: every role on a real 3-master Redis Cluster (REDIS_CLUSTER_NODES), split into API,
 * two workers and the results consumer, works as it does on one node: enqueue and events, call
 * status, idempotency, dead letters and replay, state, stats, signing secrets, the test button,
 * and a worker killed mid-run (every call ends in exactly one event).
 */

const BOTS = 30;
const CALLS_PER_BOT = 4;
const SLOW_MS = 800;

describe('on a 3-master Redis Cluster', () => {
  let cluster: TestCluster;
  let deployment: SplitDeployment;
  let endpoint: TestEndpoint;
  let http: ApiClient;

  const follow = (botId: string) => deployment.subscribe(botId);

  beforeAll(async () => {
    cluster = await startCluster(3);
    deployment = await startSplitDeployment({ cluster, worker: [{}, {}] });
    ({ endpoint, api: http } = deployment);
    endpoint.script('/echo', (req, res) => {
      const params = JSON.parse(req.body || '{}') as Record<string, string>;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          responses: [`hi {{user.name}} #${params.n}`],
          memory: { last: params.n },
          user_attributes: { name: params.who },
        }),
      );
    });
    endpoint.reply('/broken', 500, { error: 'down' });
    endpoint.script('/slow', (req, res) => {
      setTimeout(() => {
        if (res.destroyed) return;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ responses: ['slow done'] }));
      }, SLOW_MS).unref();
    });
  });

  afterAll(async () => {
    await deployment?.stop();
    await cluster?.stop();
  });

  const spread = `runs calls of ${BOTS} bots to their events, spread over every master`;
  it(`${spread}, with status, state and stats readable`, async () => {
    const bots = Array.from({ length: BOTS }, (_, i) => `cluster-bot-${i}`);
    const followers = await Promise.all(bots.map(follow));
    await Promise.all(
      bots.map((botId) =>
        createWebhook(http, botId, { name: 'echo', method: 'POST', url: `${endpoint.url}/echo`, params: { n: '0' } }),
      ),
    );
    const commandsBefore = await cluster.commandCounts();

    const sent = await Promise.all(
      bots.flatMap((botId) =>
        Array.from({ length: CALLS_PER_BOT }, (_, n) =>
          enqueueCall(http, botId, {
            webhook: 'echo',
            userId: `u-${n % 2}`,
            params: { n: String(n), who: botId },
          }).then((callId) => ({ botId, callId })),
        ),
      ),
    );
    const events = await Promise.all(
      sent.map(({ botId, callId }) => followers[bots.indexOf(botId)].waitFor(callId, 30_000)),
    );
    expect(events.every((e) => e.type === 'call.succeeded')).toBe(true);
    expect(events[0].responses).toEqual([`hi ${bots[0]} #0`]);

    // The run's commands, per master: partitions of the queues, bots' and users' keys and calls'
    // records all spread over the cluster, so no master serves less than 15% of them.
    const served = (await cluster.commandCounts()).map((n, i) => n - commandsBefore[i]);
    const total = served.reduce((a, b) => a + b, 0);
    const shares = served.map((n) => n / total);
    process.stdout.write(
      `cluster: commands per master during the run ${shares.map((x) => `${(x * 100).toFixed(0)}%`).join(' / ')}\n`,
    );
    for (const share of shares) expect(share).toBeGreaterThanOrEqual(0.15);

    const call = await http.get(`/v1/calls/${sent[0].callId}`);
    expect(call.status).toBe(200);
    expect(call.body).toMatchObject({ callId: sent[0].callId, botId: bots[0], status: 'succeeded', attempts: 1 });

    const profile = await http.get(`/v1/bots/${bots[1]}/users/u-1`);
    expect(profile.body).toMatchObject({ attributes: { name: bots[1] } });
    const session = await http.get(`/v1/bots/${bots[1]}/users/u-1/sessions/default`);
    expect(session.status).toBe(200);

    const stats = await pollUntil(
      async () => {
        const reply = await http.get(`/v1/bots/${bots[2]}/stats`);
        return reply.body.calls?.total === CALLS_PER_BOT ? reply.body : undefined;
      },
      { timeoutMs: 10_000, message: 'stats did not count the calls' },
    );
    expect(stats.calls).toEqual({ succeeded: CALLS_PER_BOT, failed: 0, total: CALLS_PER_BOT });
  });

  it('answers a replayed idempotency key with the first call, and runs it once', async () => {
    const botId = 'cluster-idem';
    const events = await follow(botId);
    await createWebhook(http, botId, { name: 'echo', method: 'POST', url: `${endpoint.url}/echo` });
    const body = { webhook: 'echo', userId: 'u', idempotencyKey: 'once', params: { n: '1', who: 'x' } };
    const replies = await Promise.all(Array.from({ length: 10 }, () => http.post(`/v1/bots/${botId}/calls`, body)));
    const ids = new Set(replies.map((r) => r.body.callId));
    expect(replies.map((r) => r.status)).toEqual(replies.map(() => 202));
    expect(ids.size).toBe(1);
    const [callId] = [...ids];
    await events.waitFor(callId);
    await new Promise((resolve) => setTimeout(resolve, 300)); // a second event would have come by now
    expect(events.forCall(callId)).toHaveLength(1);
  });

  it('lists a failed call as a dead letter and replays it to success', async () => {
    const botId = 'cluster-dead';
    const events = await follow(botId);
    await createWebhook(http, botId, {
      name: 'flaky',
      method: 'POST',
      url: `${endpoint.url}/broken`,
      retry: { attempts: 1, backoffMs: 0 },
    });
    const callId = await enqueueCall(http, botId, { webhook: 'flaky', userId: 'u' });
    expect((await events.waitFor(callId)).type).toBe('call.failed');
    const listed = await http.get(`/v1/bots/${botId}/calls?status=failed`);
    expect(listed.body.calls.map((c: { callId: string }) => c.callId)).toEqual([callId]);

    endpoint.reply('/broken', 200, { responses: ['fixed'] });
    const retry = await http.post(`/v1/calls/${callId}/retry`);
    expect(retry.body).toEqual({ callId, status: 'queued', run: 1 });
    const fixed = await pollUntil(() => events.forCall(callId).find((e) => e.type === 'call.succeeded'), {
      timeoutMs: 10_000,
      message: 'the replay did not succeed',
    });
    expect(fixed.responses).toEqual(['fixed']);
    expect((await http.get(`/v1/bots/${botId}/calls?status=failed`)).body.calls).toEqual([]);
  });

  it('rotates a signing secret and runs the test button', async () => {
    const botId = 'cluster-sign';
    const first = await http.post(`/v1/bots/${botId}/signing-secret`);
    expect(first.status).toBe(201);
    const second = await http.post(`/v1/bots/${botId}/signing-secret`);
    expect(second.body.previousExpiresAt).toEqual(expect.any(String));
    await createWebhook(http, botId, { name: 'echo', method: 'POST', url: `${endpoint.url}/echo` });
    const test = await http.post(`/v1/bots/${botId}/webhooks/echo/test`, {
      userId: 'u',
      params: { n: '7', who: 'tester' },
    });
    expect(test.status).toBe(200);
    expect(test.body).toMatchObject({ valid: true, response: { status: 200 } });
  });

  it('ends every call in exactly one event when a worker is killed mid-run', async () => {
    const botId = 'cluster-crash';
    const events = await follow(botId);
    await createWebhook(http, botId, { name: 'slow', method: 'POST', url: `${endpoint.url}/slow` });
    const callIds = await Promise.all(
      Array.from({ length: 40 }, (_, i) => enqueueCall(http, botId, { webhook: 'slow', userId: `u-${i % 5}` })),
    );
    await pollUntil(() => endpoint.requestsTo('/slow').length >= 10, {
      timeoutMs: 10_000,
      message: 'no calls in flight',
    });
    deployment.apps.worker[0].kill('SIGKILL');

    const all: CallEvent[] = await events.waitForAll(callIds, 60_000);
    expect(all.every((e) => e.type === 'call.succeeded')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(callIds.map((id) => events.forCall(id).length)).toEqual(callIds.map(() => 1));
  });
});
