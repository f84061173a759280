import {
  createWebhook,
  EventCollector,
  HookrunnerStack,
  startEndpoint,
  startHookrunner,
  streamEntriesFor,
  subscribeEvents,
  TestEndpoint,
  uniqueId,
  waitForIdleQueues,
} from '../support';

/*
 * POST /v1/bots/{botId}/turns: up to 10 calls run in parallel, each publishes its own event, and
 * once all have ended one `turn.completed` brings them together in declared order, as the bot
 * engine sees it on the bot's channel and the stream.
 */
describe('turns', () => {
  let stack: HookrunnerStack;
  let endpoint: TestEndpoint;
  let events: EventCollector | undefined;
  let botId: string;
  let userId: string;

  beforeAll(async () => {
    [stack, endpoint] = await Promise.all([startHookrunner(), startEndpoint()]);
  });

  beforeEach(async () => {
    botId = uniqueId('bot');
    userId = uniqueId('user');
    events = await subscribeEvents(stack.redis.url, botId);
  });

  afterEach(async () => {
    await events?.close();
    events = undefined;
  });

  afterAll(async () => {
    await Promise.all([stack?.stop(), endpoint?.close()]);
  });

  const hook = async (name: string, status: number, body: unknown, delayMs?: number) => {
    endpoint.reply(`/${botId}/${name}`, status, body, { delayMs });
    await createWebhook(stack.api, botId, {
      name,
      method: 'POST',
      url: `${endpoint.url}/${botId}/${name}`,
      retry: { attempts: 1 },
    });
  };
  const turn = (body: Record<string, unknown>) => stack.api.post(`/v1/bots/${botId}/turns`, { userId, ...body });

  it('publishes one turn.completed in declared order, the later call winning a key both set', async () => {
    // The first call answers last: declared order, not finishing order, decides.
    await hook('first', 200, { responses: ['one: {{memory.mood}}'], memory: { mood: 'calm', a: 1 } }, 300);
    await hook('second', 200, {
      responses: ['two'],
      quickreplies: ['yes'],
      memory: { mood: 'happy', b: 2 },
      user_attributes: { plan: 'pro' },
    });
    const reply = await turn({ calls: [{ webhook: 'first' }, { webhook: 'second', params: { x: '1' } }] });

    expect(reply.status).toBe(202);
    expect(reply.body).toEqual({
      turnId: expect.any(String),
      callIds: [expect.any(String), expect.any(String)],
      status: 'queued',
    });
    const { turnId, callIds } = reply.body as { turnId: string; callIds: string[] };
    const completed = await events!.waitForTurn(turnId);

    expect(completed).toEqual({
      type: 'turn.completed',
      turnId,
      botId,
      userId,
      sessionId: 'default',
      calls: [
        { callId: callIds[0], webhook: 'first', outcome: 'succeeded' },
        { callId: callIds[1], webhook: 'second', outcome: 'succeeded' },
      ],
      responses: ['one: happy', 'two'],
      quickreplies: ['yes'],
      memory: { mood: 'happy', a: 1, b: 2 },
      userAttributes: { plan: 'pro' },
      changes: { memory: { mood: 'happy', a: 1, b: 2 }, userAttributes: { plan: 'pro' } },
      durationMs: expect.any(Number),
      finishedAt: expect.any(String),
    });
    expect(completed.durationMs).toBeGreaterThanOrEqual(300);
    // Each call published its own event, before the turn's.
    const own = await events!.waitForAll(callIds);
    expect(own.map((e) => [e.webhook, e.turnId])).toEqual([
      ['first', turnId],
      ['second', turnId],
    ]);
    expect(JSON.parse(endpoint.requestsTo(`/${botId}/second`)[0].body)).toMatchObject({ x: '1' });
    // The stored state is what the event says: the later call's value.
    const session = await stack.api.get(`/v1/bots/${botId}/users/${userId}/sessions/default`);
    expect(session.body.memory).toEqual({ mood: 'happy', a: 1, b: 2 });
    await waitForIdleQueues(stack.redis.client());
    expect(events!.turns.filter((e) => e.turnId === turnId)).toHaveLength(1);
    const entries = await streamEntriesFor(stack.redis.client(), turnId);
    expect(entries.map((e) => e.fields.turnId)).toEqual([turnId]);
  });

  it('lists a failed call with its error, and still brings the others', async () => {
    await hook('ok', 200, { responses: ['fine'] });
    await hook('broken', 500, { message: 'down' });
    const reply = await turn({ calls: [{ webhook: 'broken' }, { webhook: 'ok' }], waitMs: 10_000 });

    expect(reply.status).toBe(200);
    const published = await events!.waitForTurn(reply.body.turnId);
    expect(reply.body).toEqual({ turnId: published.turnId, status: 'completed', event: published });
    expect(published.calls).toEqual([
      {
        callId: expect.any(String),
        webhook: 'broken',
        outcome: 'failed',
        error: expect.objectContaining({ type: 'http_status', httpStatus: 500 }),
      },
      { callId: expect.any(String), webhook: 'ok', outcome: 'succeeded' },
    ]);
    expect(published.responses).toEqual(['fine']);
  });

  it('answers 202 after waitMs while a call still runs, and the turn still completes', async () => {
    await hook('slow', 200, { responses: ['late'] }, 1_500);
    const reply = await turn({ calls: [{ webhook: 'slow' }], waitMs: 200 });
    expect(reply.status).toBe(202);
    const published = await events!.waitForTurn(reply.body.turnId);
    expect(published.responses).toEqual(['late']);
  });

  it('answers a replayed idempotency key with the first turn’s ids, its event once it has completed', async () => {
    await hook('once', 200, { responses: ['only once'] });
    const body = { calls: [{ webhook: 'once' }, { webhook: 'once' }], idempotencyKey: 'msg-7' };
    const first = await turn({ ...body, waitMs: 10_000 });
    expect(first.status).toBe(200);
    const again = await turn({ ...body, waitMs: 10_000 });

    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    expect(endpoint.requestsTo(`/${botId}/once`)).toHaveLength(2);
    expect(events!.turns).toHaveLength(1);
  });

  it('refuses the whole turn when one webhook does not exist, and enqueues none of it', async () => {
    await hook('real', 200, { responses: ['x'] });
    const reply = await turn({ calls: [{ webhook: 'real' }, { webhook: 'ghost' }] });
    expect(reply.status).toBe(404);
    expect(reply.body.message).toContain('ghost');
    await waitForIdleQueues(stack.redis.client());
    expect(endpoint.requestsTo(`/${botId}/real`)).toHaveLength(0);
    expect(await stack.redis.client().zcard(`hookrunner:bot:{${botId}}:pending`)).toBe(0);
  });

  it.each([
    [{ calls: [] }, 'calls must hold at least 1 call'],
    [{ calls: Array.from({ length: 11 }, () => ({ webhook: 'a' })) }, 'calls must hold at most 10 calls'],
    [{ calls: [{ webhook: '' }] }, 'calls.0.webhook must be longer than or equal to 1 characters'],
    [{ calls: [{ webhook: 'a', extra: 1 }] }, 'calls.0.property extra should not exist'],
    [{ calls: [{ webhook: 'a' }], waitMs: 30_001 }, 'waitMs must not be greater than 30000'],
    [{ calls: 'a' }, 'calls must be an array'],
  ])('answers 400 naming the field for %j', async (body, message) => {
    const reply = await turn(body);
    expect(reply.status).toBe(400);
    expect(JSON.stringify(reply.body.message)).toContain(message);
  });
});
