import Redis from 'ioredis';
import {
  ApiClient,
  EventCollector,
  pollUntil,
  SplitDeployment,
  startSplitDeployment,
  streamEntriesFor,
  TestEndpoint,
  waitForIdleQueues,
} from '../support';

/*
 * The issue's "Done when": no call that got a 202 is lost when a worker process is killed with
 * SIGKILL while calls are in flight. Its calls are run again by the other worker once their locks
 * expire, and every call publishes exactly one event. Turns waiting in the same queue complete
 * exactly once, with their calls' responses in declared order.
 */

const BOT = 'crash-bot';
const CALLS = 40;
const TURNS = 4;
const TURN_SIZE = 3;
const USERS = 4;
const CONCURRENCY = 10;
const REPLY_DELAY_MS = 1_500;

describe('a worker killed with calls in flight', () => {
  let deployment: SplitDeployment;
  let client: Redis;
  let endpoint: TestEndpoint;
  let events: EventCollector;
  let http: ApiClient;
  /** Requests the endpoint has received and not answered (nor seen cut off) yet. */
  let inFlight = 0;

  beforeAll(async () => {
    // The workers are started by the test, once every call waits in the queue.
    deployment = await startSplitDeployment({ worker: [] });
    ({ client, endpoint, api: http } = deployment);
    events = await deployment.subscribe(BOT);
    endpoint.script('/slow', (req, res) => {
      inFlight += 1;
      let open = true;
      const done = () => {
        if (open) inFlight -= 1;
        open = false;
      };
      res.once('close', done);
      const i = Number(JSON.parse(req.body).i);
      setTimeout(() => {
        if (res.destroyed) return done(); // the worker that sent it is gone
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            responses: [`call ${i}: {{memory.k-${i}}}`],
            memory: { [`k-${i}`]: i },
            user_attributes: { [`seen-${i}`]: true },
          }),
        );
        done();
      }, REPLY_DELAY_MS).unref();
    });
  });

  afterAll(() => deployment?.stop());

  it('loses no call and publishes exactly one event per call', async () => {
    const created = await http.post(`/v1/bots/${BOT}/webhooks`, {
      name: 'slow',
      method: 'POST',
      url: `${endpoint.url}/slow`,
      timeoutMs: 5_000,
      retry: { attempts: 3, backoffMs: 50 },
    });
    expect(created.status).toBe(201);

    // Enqueued before any worker runs: every call is accepted and waits, queued.
    const userOf = (i: number) => `user-${i % USERS}`;
    const accepted = await Promise.all(
      Array.from({ length: CALLS }, (_, i) =>
        http.post(`/v1/bots/${BOT}/calls`, { webhook: 'slow', userId: userOf(i), params: { i: String(i) } }),
      ),
    );
    expect(accepted.map((r) => r.status)).toEqual(Array(CALLS).fill(202));
    const callIds = accepted.map((r) => r.body.callId as string);
    expect(new Set(callIds).size).toBe(CALLS);
    expect((await http.get(`/v1/calls/${callIds[0]}`)).body).toMatchObject({ status: 'queued', attempts: 0 });
    // Turns of their own users, their calls numbered after the single calls.
    const turnCall = (t: number, j: number) => CALLS + t * TURN_SIZE + j;
    const turns = await Promise.all(
      Array.from({ length: TURNS }, (_, t) =>
        http.post(`/v1/bots/${BOT}/turns`, {
          userId: `turner-${t}`,
          calls: Array.from({ length: TURN_SIZE }, (_, j) => ({
            webhook: 'slow',
            params: { i: String(turnCall(t, j)) },
          })),
        }),
      ),
    );
    expect(turns.map((r) => r.status)).toEqual(Array(TURNS).fill(202));
    const turnCallIds = turns.flatMap((r) => r.body.callIds as string[]);

    const workerEnv = {
      WORKER_CONCURRENCY: String(CONCURRENCY),
      WORKER_LOCK_DURATION_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
    };
    // The second worker survives, and takes over the victim's calls.
    const [victim] = await Promise.all([deployment.start('worker', workerEnv), deployment.start('worker', workerEnv)]);

    // More calls in flight than one worker may hold: both workers are mid-call.
    await pollUntil(() => inFlight > CONCURRENCY, {
      timeoutMs: 15_000,
      message: `fewer than ${CONCURRENCY + 1} calls in flight (saw ${inFlight})`,
    });
    const inFlightAtKill = inFlight;
    victim.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');

    const finished = await events.waitForAll(callIds, 60_000);
    await events.waitForAll(turnCallIds, 60_000);
    const completed = await Promise.all(turns.map((r) => events.waitForTurn(r.body.turnId as string, 60_000)));
    await waitForIdleQueues(client, 20_000);

    // Exactly one event per call, on the channel and in the stream, and nothing else.
    expect(events.events).toHaveLength(CALLS + TURNS * TURN_SIZE);
    expect(finished.map((e) => e.type)).toEqual(Array(CALLS).fill('call.succeeded'));
    for (const [i, event] of finished.entries()) {
      expect(event).toMatchObject({
        callId: callIds[i],
        userId: userOf(i),
        responses: [`call ${i}: ${i}`],
        changes: { memory: { [`k-${i}`]: i } },
      });
      const stream = await streamEntriesFor(client, callIds[i]);
      expect(stream.map((entry) => entry.event)).toEqual([event]);
    }

    // The victim's calls were run again by the survivor, with the same idempotency-key.
    const hits = new Map<string, number>();
    for (const req of endpoint.requestsTo('/slow')) {
      const key = String(req.headers['idempotency-key']);
      hits.set(key, (hits.get(key) ?? 0) + 1);
    }
    expect([...hits.keys()].sort()).toEqual([...callIds, ...turnCallIds].sort());
    const rerun = [...hits.values()].filter((n) => n > 1).length;
    expect(rerun).toBeGreaterThan(0);
    expect(rerun).toBeLessThanOrEqual(inFlightAtKill);

    // State holds every call's keys exactly once per user.
    for (let u = 0; u < USERS; u++) {
      const mine = Array.from({ length: CALLS }, (_, i) => i).filter((i) => i % USERS === u);
      const session = await http.get(`/v1/bots/${BOT}/users/user-${u}/sessions/default`);
      expect(session.body).toEqual({ memory: Object.fromEntries(mine.map((i) => [`k-${i}`, i])) });
      const profile = await http.get(`/v1/bots/${BOT}/users/user-${u}`);
      expect(profile.body).toEqual({ attributes: Object.fromEntries(mine.map((i) => [`seen-${i}`, true])) });
    }
    const statuses = await Promise.all(callIds.map((id) => http.get(`/v1/calls/${id}`)));
    expect(statuses.map((s) => s.body.status)).toEqual(Array(CALLS).fill('succeeded'));

    // One turn.completed per turn, on the channel and in the stream, its calls in declared order.
    expect(events.turns).toHaveLength(TURNS);
    for (const [t, turn] of completed.entries()) {
      const numbers = Array.from({ length: TURN_SIZE }, (_, j) => turnCall(t, j));
      expect(turn).toMatchObject({
        userId: `turner-${t}`,
        calls: turns[t].body.callIds.map((callId: string) => ({ callId, webhook: 'slow', outcome: 'succeeded' })),
        responses: numbers.map((n) => `call ${n}: ${n}`),
        memory: Object.fromEntries(numbers.map((n) => [`k-${n}`, n])),
      });
      expect((await streamEntriesFor(client, turn.turnId)).map((entry) => entry.event)).toEqual([turn]);
    }
  });
});
