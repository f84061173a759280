import {
  createWebhook,
  enqueueCall,
  EventCollector,
  HookrunnerStack,
  startEndpoint,
  startHookrunner,
  subscribeEvents,
  TestEndpoint,
} from '../support';

/*
 * Stored state per user is bounded: a reply that would leave a session's memory or a profile with
 * more than 1000 keys merges nothing and fails as invalid_response. Deleting keys frees room.
 */
const LIMIT = 1_000;

describe('state limits per user', () => {
  let stack: HookrunnerStack;
  let endpoint: TestEndpoint;
  let events: EventCollector;
  const BOT = 'limits-bot';

  beforeAll(async () => {
    stack = await startHookrunner();
    endpoint = await startEndpoint();
    events = await subscribeEvents(stack.redis.url, BOT);
  });

  afterAll(async () => {
    await events?.close();
    await endpoint?.close();
    await stack?.stop();
  });

  const keysFrom = (prefix: string, from: number, count: number, value: unknown = 1) =>
    Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${from + i}`, value]));

  async function callReturning(name: string, userId: string, reply: unknown) {
    endpoint.reply(`/${name}`, 200, reply);
    await createWebhook(stack.api, BOT, {
      name,
      method: 'POST',
      url: `${endpoint.url}/${name}`,
      retry: { attempts: 1 },
    });
    const callId = await enqueueCall(stack.api, BOT, { webhook: name, userId });
    return events.waitFor(callId);
  }

  it('refuses a reply that would pass the session memory limit, merging nothing', async () => {
    const first = await callReturning('fill', 'u1', { memory: keysFrom('k', 0, LIMIT - 1) });
    expect(first.type).toBe('call.succeeded');

    const second = await callReturning('overflow', 'u1', {
      memory: keysFrom('k', LIMIT - 1, 2),
      user_attributes: { tier: 'gold' },
    });
    expect(second.type).toBe('call.failed');
    expect(second.error).toEqual({
      type: 'invalid_response',
      message:
        `the reply would leave the session memory of u1/default with more than ${LIMIT} keys; ` + 'nothing was merged',
    });
    expect(second.responses).toEqual([]);
    const session = await stack.api.get(`/v1/bots/${BOT}/users/u1/sessions/default`);
    expect(Object.keys(session.body.memory)).toHaveLength(LIMIT - 1);
    // The profile half of the refused reply was not merged either.
    expect((await stack.api.get(`/v1/bots/${BOT}/users/u1`)).body.attributes).toEqual({});
    const call = await stack.api.get(`/v1/calls/${second.callId}`);
    expect(call.body).toMatchObject({ status: 'failed', error: { type: 'invalid_response' } });
  });

  it('counts deletions in the same reply, so a reply that swaps keys fits', async () => {
    const swap = await callReturning('swap', 'u1', {
      memory: { ...keysFrom('k', 0, 5, null), ...keysFrom('n', 0, 5) },
    });
    expect(swap.type).toBe('call.succeeded');
    expect(Object.keys(swap.memory)).toHaveLength(LIMIT - 1);
    expect(swap.memory).toMatchObject({ n0: 1, n4: 1 });
    expect(swap.memory).not.toHaveProperty('k0');
  });

  it('bounds the profile the same way', async () => {
    const refused = await callReturning('profile-overflow', 'u2', { user_attributes: keysFrom('a', 0, LIMIT + 1) });
    expect(refused.type).toBe('call.failed');
    expect(refused.error?.message).toBe(
      `the reply would leave the profile of u2 with more than ${LIMIT} keys; nothing was merged`,
    );
    expect((await stack.api.get(`/v1/bots/${BOT}/users/u2`)).body.attributes).toEqual({});
  });
});
