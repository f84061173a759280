import { CallErrorType, type CallEvent, type CallResultJob } from '@hookrunner/contracts';
import { buildEvent, refusedResult, type MergedState } from './build-event';

const ENQUEUED_AT = Date.UTC(2026, 0, 2, 3, 4, 5, 0);

function resultOf(overrides: Partial<CallResultJob> = {}): CallResultJob {
  return {
    callId: 'call-1',
    botId: 'bot-1',
    userId: 'user-1',
    sessionId: 'session-1',
    webhook: 'greet',
    method: 'POST',
    outcome: 'succeeded',
    reply: { responses: [], quickreplies: [], memory: {}, user_attributes: {} },
    memory: {},
    user: {},
    attempts: 1,
    enqueuedAt: ENQUEUED_AT,
    lastAttempt: { run: 0, attempt: 1, startedAt: '2026-01-02T03:04:05.010Z', durationMs: 200, httpStatus: 200 },
    finishedAt: ENQUEUED_AT + 250,
    run: 0,
    ...overrides,
  };
}

/** The event fields that only echo the result's identity. */
const identity = { callId: 'call-1', botId: 'bot-1', userId: 'user-1', sessionId: 'session-1', webhook: 'greet' };

describe(buildEvent.name, () => {
  const sut = buildEvent;

  it('renders merge tags from the merged state, overlaid by the enqueue overlays, overlaid by the reply', () => {
    const merged: MergedState = {
      memory: { name: 'Ann', plan: 'free', step: 2, stale: 'merged' },
      profile: { tier: 'silver', city: 'Oslo', vip: false },
    };
    const reply = {
      responses: [
        'name={{memory.name}} plan={{memory.plan}} step={{memory.step}} stale=[{{memory.stale}}]',
        'tier={{user.tier}} city={{user.city}} vip={{ user.vip }} coupon=[{{user.coupon}}] lang={{user.lang}}',
      ],
      quickreplies: ['{{memory.cart}}', 'plain'],
      memory: { plan: 'pro', stale: null },
      user_attributes: { lang: 'nb', coupon: null },
    };
    const result = resultOf({
      reply,
      // Given at enqueue: wins over the merged state, loses to the reply.
      memory: { plan: 'trial', step: 3, stale: 'enqueued', cart: { items: 2 } },
      user: { city: 'Bergen', coupon: 'SAVE10' },
    });

    const expected: CallEvent = {
      type: 'call.succeeded',
      ...identity,
      responses: ['name=Ann plan=pro step=3 stale=[]', 'tier=silver city=Bergen vip=false coupon=[] lang=nb'],
      quickreplies: ['{"items":2}', 'plain'],
      memory: merged.memory,
      userAttributes: merged.profile,
      changes: { memory: { plan: 'pro', stale: null }, userAttributes: { lang: 'nb', coupon: null } },
      attempts: 1,
      durationMs: 250,
      finishedAt: '2026-01-02T03:04:05.250Z',
    };
    expect(sut(result, merged)).toStrictEqual(expected);
  });

  it('reports the state after the merge and the changes as returned, with the attempts and timing of the run', () => {
    const merged: MergedState = { memory: { a: 1, b: 'two' }, profile: { email: 'ann@example.com' } };
    const result = resultOf({
      reply: { responses: ['ok'], quickreplies: [], memory: { b: 'two' }, user_attributes: {} },
      attempts: 3,
      finishedAt: ENQUEUED_AT + 61_005,
      run: 2,
    });

    expect(sut(result, merged)).toStrictEqual({
      type: 'call.succeeded',
      ...identity,
      responses: ['ok'],
      quickreplies: [],
      memory: { a: 1, b: 'two' },
      userAttributes: { email: 'ann@example.com' },
      changes: { memory: { b: 'two' }, userAttributes: {} },
      attempts: 3,
      durationMs: 61_005,
      finishedAt: '2026-01-02T03:05:06.005Z',
    });
  });

  it('ends a failed call with its error, no responses and no changes', () => {
    const error = { type: CallErrorType.HttpStatus, message: 'the endpoint answered 503', httpStatus: 503 };
    const merged: MergedState = { memory: { kept: true }, profile: {} };
    const result = resultOf({
      outcome: 'failed',
      reply: undefined,
      error,
      attempts: 4,
      finishedAt: ENQUEUED_AT + 9_000,
    });

    expect(sut(result, merged)).toStrictEqual({
      type: 'call.failed',
      ...identity,
      responses: [],
      quickreplies: [],
      memory: { kept: true },
      userAttributes: {},
      changes: { memory: {}, userAttributes: {} },
      attempts: 4,
      durationMs: 9_000,
      finishedAt: '2026-01-02T03:04:14.000Z',
      error,
    });
  });

  it('never reports a negative duration when the clocks of two hosts disagree', () => {
    const event = sut(resultOf({ finishedAt: ENQUEUED_AT - 40 }), { memory: {}, profile: {} });
    expect([event.durationMs, event.finishedAt]).toEqual([0, '2026-01-02T03:04:04.960Z']);
  });
});

describe(refusedResult.name, () => {
  const sut = refusedResult;
  const reply = { responses: ['hi'], quickreplies: ['yes'], memory: { k1: 1 }, user_attributes: { tier: 'gold' } };

  it('fails the call as an invalid response naming the session memory, and drops the reply', () => {
    const result = resultOf({ reply });
    expect(sut(result, 'memory', 1000)).toStrictEqual({
      ...result,
      outcome: 'failed',
      reply: undefined,
      error: {
        type: CallErrorType.InvalidResponse,
        message:
          'the reply would leave the session memory of user-1/session-1 with more than 1000 keys; nothing was merged',
      },
    });
  });

  it('names the profile when the profile would overflow', () => {
    const result = resultOf({ reply });
    expect(sut(result, 'profile', 7).error).toEqual({
      type: CallErrorType.InvalidResponse,
      message: 'the reply would leave the profile of user-1 with more than 7 keys; nothing was merged',
    });
  });

  it('yields a failed event that shows the state as it was and no changes', () => {
    const merged: MergedState = { memory: { k0: 0 }, profile: { tier: 'silver' }, rejected: 'memory' };
    const event = buildEvent(sut(resultOf({ reply, attempts: 2 }), 'memory', 1000), merged);

    expect(event).toStrictEqual({
      type: 'call.failed',
      ...identity,
      responses: [],
      quickreplies: [],
      memory: { k0: 0 },
      userAttributes: { tier: 'silver' },
      changes: { memory: {}, userAttributes: {} },
      attempts: 2,
      durationMs: 250,
      finishedAt: '2026-01-02T03:04:05.250Z',
      error: {
        type: CallErrorType.InvalidResponse,
        message:
          'the reply would leave the session memory of user-1/session-1 with more than 1000 keys; nothing was merged',
      },
    });
  });
});
