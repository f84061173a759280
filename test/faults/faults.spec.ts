/**
 * The fault-injection suite (`npm run test:faults`): real processes, a real Redis with AOF, a
 * flaky endpoint, and the faults the Guarantees section promises to survive, all while calls
 * flow. It then checks, from the event stream, that every call that got a 202 has exactly one
 * terminal event, that succeeded events carry what the endpoint answered, and that the stored
 * state holds exactly what the succeeded calls returned. Turns of three calls run through the same
 * faults, and each completes in exactly one `turn.completed` that agrees with its calls' events.
 *
 * FAULTS_CALLS sets how many calls (default 2000); FAULTS_FSYNC=everysec runs the same faults
 * against `appendfsync everysec` and reports what a kill -9 of Redis lost instead of failing.
 */
import Redis from 'ioredis';
import { keys } from '@hookrunner/redis';
import { pollUntil, SplitDeployment, startSplitDeployment, TestEndpoint, TestRedis } from '../support';

const CALLS = Number(process.env.FAULTS_CALLS ?? 2000);
const FSYNC = (process.env.FAULTS_FSYNC ?? 'always') as 'always' | 'everysec';
const USERS = 25;
const BOT = 'faults-bot';
/** One turn is sent with every TURN_EVERY-th call; its calls are numbered after the single calls. */
const TURN_EVERY = 40;
const TURN_SIZE = 3;
/** Enqueue pace: the run spans the faults below instead of finishing before the first. */
const RATE_PER_SECOND = Math.max(50, Math.round(CALLS / 40));

interface FaultTiming {
  fault: string;
  recoverySeconds: number;
}

jest.setTimeout(280_000);

describe(`fault injection (${CALLS} calls, appendfsync ${FSYNC})`, () => {
  let deployment: SplitDeployment;
  let redis: TestRedis;
  let endpoint: TestEndpoint;

  beforeAll(async () => {
    deployment = await startSplitDeployment({
      redis: { appendonly: true, appendfsync: FSYNC },
      env: {
        WORKER_CONCURRENCY: '50',
        WORKER_LOCK_DURATION_MS: '3000',
        WORKER_STALLED_INTERVAL_MS: '1000',
        SHUTDOWN_GRACE_MS: '10000',
      },
      worker: [{}, {}],
    });
    ({ redis, endpoint } = deployment);
    endpoint.script('/flaky', (req, res) => {
      const { i } = JSON.parse(req.body) as { i: string };
      const roll = Math.random();
      const answer = () => {
        if (res.destroyed) return;
        if (roll < 0.2) {
          res.writeHead(500).end('{}');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(replyFor(i)));
      };
      // Some calls outlive their 1 s timeout; the rest answer within 150 ms.
      if (roll > 0.98) setTimeout(answer, 1_500);
      else setTimeout(answer, Math.floor(Math.random() * 150));
    });
    const created = await post('/v1/bots/' + BOT + '/webhooks', {
      name: 'flaky',
      method: 'POST',
      url: `${endpoint.url}/flaky`,
      timeoutMs: 1_000,
      retry: { attempts: 6, backoffMs: 50 },
    });
    expect(created.status).toBe(201);
  });

  afterAll(() => deployment?.stop());

  async function post(path: string, body: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(`http://127.0.0.1:${deployment.apps.api[0].port}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  }

  /** Posts until a 202, retrying 503s and 429s with the same body (and so the same idempotency key). */
  async function accept(path: string, body: unknown): Promise<any> {
    for (;;) {
      const reply = await post(path, body).catch(() => ({ status: 0, body: undefined }));
      if (reply.status === 202) return reply.body;
      if (reply.status !== 503 && reply.status !== 429 && reply.status !== 0)
        throw new Error(`${path}: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Enqueues call i until a 202. */
  async function enqueue(i: number): Promise<string> {
    const body = {
      webhook: 'flaky',
      userId: `user-${i % USERS}`,
      params: { i: String(i) },
      idempotencyKey: `call-${i}`,
    };
    return ((await accept(`/v1/bots/${BOT}/calls`, body)) as { callId: string }).callId;
  }

  /** The numbers (endpoint `i`) of turn t's calls, in declared order. */
  const turnNumbers = (t: number) => Array.from({ length: TURN_SIZE }, (_, j) => CALLS + t * TURN_SIZE + j);

  /** Enqueues turn t until a 202; its users are not the single calls' (their state is checked apart). */
  async function enqueueTurn(t: number): Promise<{ turnId: string; callIds: string[] }> {
    const body = {
      userId: `turner-${t}`,
      calls: turnNumbers(t).map((n) => ({ webhook: 'flaky', params: { i: String(n) } })),
      idempotencyKey: `turn-${t}`,
    };
    return (await accept(`/v1/bots/${BOT}/turns`, body)) as { turnId: string; callIds: string[] };
  }

  it('ends every accepted call in exactly one terminal event through worker, consumer and Redis crashes', async () => {
    const observer = redis.client({ maxRetriesPerRequest: null, enableOfflineQueue: true });
    const accepted = new Map<string, number>();
    const timings: FaultTiming[] = [];
    const started = Date.now();
    let enqueued = 0;

    const faults: Array<{ at: number; name: string; run: () => Promise<void> }> = [
      { at: 0.1, name: 'worker SIGKILL', run: () => killAndReplace('worker', 'SIGKILL') },
      { at: 0.2, name: 'worker SIGKILL (again)', run: () => killAndReplace('worker', 'SIGKILL') },
      { at: 0.35, name: 'results consumer SIGKILL', run: () => killAndReplace('results', 'SIGKILL') },
      { at: 0.5, name: 'Redis restart (SIGTERM)', run: () => redis.restart() },
      { at: 0.65, name: 'Redis SIGKILL', run: async () => (await redis.kill('SIGKILL'), await redis.restart()) },
      { at: 0.8, name: 'worker SIGTERM', run: () => killAndReplace('worker', 'SIGTERM') },
    ];

    async function killAndReplace(role: 'worker' | 'results', signal: NodeJS.Signals): Promise<void> {
      const victim = deployment.apps[role].find((a) => a.exitedWith === undefined)!;
      victim.kill(signal);
      const exit = await victim.exited;
      if (signal === 'SIGTERM') expect(exit.code).toBe(0);
      await deployment.start(role);
    }

    /**
     * Seconds from the fault until every call accepted before it has its terminal event: for a
     * killed worker, that includes noticing its stalled calls and running them elsewhere.
     */
    async function recovery(name: string, since: number): Promise<number> {
      const before = [...accepted.keys()];
      const ended = new Set<string>();
      let from = '-';
      try {
        await pollUntil(
          async () => {
            const page = await observer.xrange('hookrunner:events', from, '+', 'COUNT', 5000).catch(() => []);
            for (const [id, fields] of page) {
              ended.add(fields[fields.indexOf('callId') + 1]);
              from = '(' + id;
            }
            return before.every((id) => ended.has(id));
          },
          { timeoutMs: 90_000, intervalMs: 50, message: `calls accepted before the fault "${name}" never ended` },
        );
      } catch (err) {
        // Where the missing calls stand, so a failure says which step lost them.
        const missing = before.filter((id) => !ended.has(id));
        const states = await Promise.all(
          missing
            .slice(0, 5)
            .map(async (id) => `${id}: ${JSON.stringify(await getJson(`/v1/calls/${id}`).catch(String))}`),
        );
        const streams = await Promise.all(
          // The deployment runs with the default QUEUE_PARTITIONS (4).
          [0, 1, 2, 3].map(async (p) => {
            const key = keys.results(p);
            const length = await observer.xlen(key);
            const pending = await observer.xpending(key, 'results').catch(String);
            return `${key} len ${length} pending ${JSON.stringify(pending)}`;
          }),
        );
        throw new Error(
          `${(err as Error).message}; ${missing.length} missing\n${states.join('\n')}\n${streams.join('\n')}`,
        );
      }
      return (Date.now() - since) / 1000;
    }

    const injector = (async () => {
      for (const fault of faults) {
        await pollUntil(() => enqueued >= fault.at * CALLS, {
          timeoutMs: 200_000,
          intervalMs: 20,
          message: `never reached ${fault.name}`,
        });
        const at = Date.now();
        await fault.run();
        timings.push({ fault: fault.name, recoverySeconds: await recovery(fault.name, at) });
      }
    })();

    const inFlight = new Set<Promise<void>>();
    /** Accepted turns: turn number → its ids. */
    const turns = new Map<number, { turnId: string; callIds: string[] }>();
    for (let i = 0; i < CALLS; i++) {
      const due = started + (i * 1000) / RATE_PER_SECOND;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      if (i % TURN_EVERY === 0) {
        const t = i / TURN_EVERY;
        const p = enqueueTurn(t).then((ids) => void turns.set(t, ids));
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
      const p = enqueue(i).then((callId) => {
        accepted.set(callId, i);
        enqueued++;
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      if (inFlight.size > 200) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    await injector;

    // A turn's calls are accepted calls too, numbered after the single calls.
    for (const [t, { callIds }] of turns) callIds.forEach((callId, j) => accepted.set(callId, turnNumbers(t)[j]));
    const turnIds = [...turns.values()].map((turn) => turn.turnId);

    // Every accepted call and turn must end; then read the whole stream once.
    const everything = await pollUntil(
      async () => {
        const events = await readStream(observer);
        const ended = new Set(events.map((e) => e.callId ?? e.turnId));
        return [...accepted.keys(), ...turnIds].every((id) => ended.has(id)) ? events : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500, message: 'not every accepted call and turn ended' },
    ).catch(async () => readStream(observer));
    const terminal = everything.filter((e) => e.type !== 'turn.completed');
    const completed = everything.filter((e) => e.type === 'turn.completed');

    const byCall = new Map<string, any[]>();
    for (const event of terminal) byCall.set(event.callId, [...(byCall.get(event.callId) ?? []), event]);
    const lost = [...accepted.keys()].filter((id) => !byCall.has(id));
    const duplicated = [...byCall.entries()].filter(([, events]) => events.length > 1).map(([id]) => id);
    const failed = terminal.filter((e) => e.type === 'call.failed');
    const succeeded = terminal.filter((e) => e.type === 'call.succeeded');

    const byTurn = new Map<string, any[]>();
    for (const event of completed) byTurn.set(event.turnId, [...(byTurn.get(event.turnId) ?? []), event]);
    const lostTurns = turnIds.filter((id) => !byTurn.has(id));
    const duplicatedTurns = [...byTurn.entries()].filter(([, events]) => events.length > 1).map(([id]) => id);

    printTable(
      {
        accepted: accepted.size,
        events: terminal.length,
        lost: lost.length,
        duplicated: duplicated.length,
        failedByDesign: failed.length,
        turns: turns.size,
        turnEvents: completed.length,
        turnsLost: lostTurns.length,
        turnsDuplicated: duplicatedTurns.length,
      },
      timings,
    );

    // Each turn's event lists its calls in declared order, each as its own event ended, and
    // brings the succeeded ones' responses in that order.
    for (const [t, { turnId, callIds }] of turns) {
      const [event] = byTurn.get(turnId) ?? [];
      if (!event) continue;
      const ends = callIds.map((callId) => byCall.get(callId)?.[0]);
      expect(event.calls.map((c: any) => [c.callId, c.outcome])).toEqual(
        ends.map((end, j) => [callIds[j], end?.type === 'call.succeeded' ? 'succeeded' : 'failed']),
      );
      expect(event.responses).toEqual(
        turnNumbers(t)
          .filter((_n, j) => ends[j]?.type === 'call.succeeded')
          .flatMap((n) => replyFor(String(n)).responses),
      );
    }

    // Each succeeded event carries exactly what the endpoint answered for its call.
    for (const event of succeeded) {
      const i = accepted.get(event.callId)!;
      expect(event.responses).toEqual(replyFor(String(i)).responses);
      expect(event.changes).toEqual({
        memory: replyFor(String(i)).memory,
        userAttributes: replyFor(String(i)).user_attributes,
      });
    }
    // Every failure is one the endpoint caused, never a crash: 500s or timeouts on every attempt,
    // or its circuit opened by them (with 22% failures, the first ten attempts reach the breaker's
    // 50% now and then, and the breaker is in the path this suite covers).
    for (const event of failed) expect(['http_status', 'timeout', 'circuit_open']).toContain(event.error.type);
    // Every request the endpoint saw for a call carried that call's idempotency key. A call that
    // ended refused by an open circuit may have sent none (every attempt refused).
    const keysSeen = new Set(endpoint.requestsTo('/flaky').map((r) => r.headers['idempotency-key']));
    const refusedByCircuit = (e: any) => e.type === 'call.failed' && e.error.type === 'circuit_open';
    for (const [callId, [end]] of byCall) if (!refusedByCircuit(end)) expect(keysSeen.has(callId)).toBe(true);

    // The stored state holds exactly what the succeeded calls returned, per user.
    for (let u = 0; u < USERS; u++) {
      const mine = succeeded.filter((e) => e.userId === `user-${u}`).map((e) => String(accepted.get(e.callId)));
      const memory = await getJson(`/v1/bots/${BOT}/users/user-${u}/sessions/default`);
      const profile = await getJson(`/v1/bots/${BOT}/users/user-${u}`);
      expect(Object.keys(memory.memory).sort()).toEqual(mine.map((i) => `m${i}`).sort());
      expect(Object.keys(profile.attributes).sort()).toEqual(mine.map((i) => `a${i}`).sort());
    }

    expect(duplicated).toEqual([]);
    expect(duplicatedTurns).toEqual([]);
    if (FSYNC === 'always') expect([lost, lostTurns]).toEqual([[], []]);
    observer.disconnect();
  });

  async function getJson(path: string): Promise<any> {
    const res = await fetch(`http://127.0.0.1:${deployment.apps.api[0].port}${path}`);
    expect(res.status).toBe(200);
    return res.json();
  }
});

function replyFor(i: string) {
  return { responses: [`ok ${i}`], memory: { [`m${i}`]: Number(i) }, user_attributes: { [`a${i}`]: Number(i) } };
}

async function readStream(redis: Redis): Promise<any[]> {
  const events: any[] = [];
  let from = '-';
  for (;;) {
    const page = await redis.xrange('hookrunner:events', from, '+', 'COUNT', 1000);
    for (const [, fields] of page) events.push(JSON.parse(fields[fields.indexOf('event') + 1]));
    if (page.length < 1000) return events;
    from = '(' + page[page.length - 1][0];
  }
}

function printTable(totals: Record<string, number>, timings: FaultTiming[]): void {
  const lines = [
    `fault injection, appendfsync ${FSYNC}`,
    ...Object.entries(totals).map(([k, v]) => `  ${k.padEnd(16)} ${v}`),
    '  recovery (fault → every call accepted before it has ended):',
    ...timings.map((t) => `    ${t.fault.padEnd(28)} ${t.recoverySeconds.toFixed(2)} s`),
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
