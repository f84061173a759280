import calculateSlot from 'cluster-key-slot';
import { keys } from './keys';
import { SCRIPTS, type ScriptName } from './scripts';

/** The ids a key is built from; each sample uses identifier characters (`-` `_` `.` `:`) differently. */
interface Ids {
  botId: string;
  userId: string;
  sessionId: string;
  callId: string;
  run: number;
  idempotencyKey: string;
  minute: number;
  origin: string;
  partition: number;
}

const SAMPLES: Ids[] = [
  {
    botId: 'bot-1',
    userId: 'user_1',
    sessionId: 'default',
    callId: '0b6f3c52-9d1e-4f7a-8a41-2c5e7d9b1f03',
    run: 0,
    idempotencyKey: 'order-17',
    minute: 29_374_080,
    origin: 'https://api.example.com:443',
    partition: 0,
  },
  {
    botId: 'acme:support.v2',
    userId: 'tg:12345',
    sessionId: 'chat.9-a_b',
    callId: 'call:1.2-3_4',
    run: 3,
    idempotencyKey: 'k:1.2-3_4',
    minute: 1,
    origin: 'http://127.0.0.1:8080',
    partition: 1,
  },
  {
    botId: ':',
    userId: '.',
    sessionId: '-',
    callId: '_',
    run: 12,
    idempotencyKey: '!',
    minute: 0,
    origin: 'http://[::1]:9',
    partition: 7,
  },
  {
    botId: 'A-b_C.d:E',
    userId: 'x'.repeat(128),
    sessionId: '1:2:3',
    callId: 'a.b',
    run: 1,
    idempotencyKey: '~'.repeat(255),
    minute: 99,
    origin: 'https://a{b}c.example:443',
    partition: 63,
  },
];

const userTag = (i: Ids) => `${i.botId}/${i.userId}`;

/**
 * The keys each script is given where the product calls it (grep `hookrunner<Script>(` under apps/
 * and libs/), and the tag whose slot keys.ts says they live in. Typed by ScriptName, and the specs
 * below walk SCRIPTS itself, so a script added without an entry here fails.
 */
const SCRIPT_KEYS: Record<ScriptName, { keys: (i: Ids) => string[]; slotOf: (i: Ids) => string }> = {
  // apps/results/src/state-merge.service.ts
  hookrunnerMergeState: {
    keys: (i) => [
      keys.session(i.botId, i.userId, i.sessionId),
      keys.profile(i.botId, i.userId),
      keys.applied(i.botId, i.userId, i.callId, i.run),
    ],
    slotOf: userTag,
  },
  // apps/results/src/event-publisher.ts
  hookrunnerPublishEvent: {
    keys: (i) => [keys.published(i.callId, i.run), keys.eventsStream],
    slotOf: () => keys.eventsStream,
  },
  // apps/api/src/calls/enqueue.service.ts (admit)
  hookrunnerAdmitCalls: {
    keys: (i) => [keys.rateBucket(i.botId), keys.webhooks(i.botId), keys.pendingCalls(i.botId)],
    slotOf: (i) => i.botId,
  },
  // apps/api/src/calls/enqueue.service.ts (release)
  hookrunnerReleaseIdempotencyKey: {
    keys: (i) => [keys.idempotency(i.botId, i.idempotencyKey)],
    slotOf: (i) => i.botId,
  },
  // apps/api/src/webhooks/definitions.service.ts
  hookrunnerCreateWebhook: { keys: (i) => [keys.webhooks(i.botId)], slotOf: (i) => i.botId },
  hookrunnerReplaceWebhook: { keys: (i) => [keys.webhooks(i.botId)], slotOf: (i) => i.botId },
  // apps/api/src/signing/signing-secrets.controller.ts
  hookrunnerRotateSigningSecret: { keys: (i) => [keys.signingSecrets(i.botId)], slotOf: (i) => i.botId },
  // libs/redis/src/call-repository.ts (every transition)
  hookrunnerCallTransition: {
    keys: (i) => [keys.call(i.callId), keys.attempts(i.callId), keys.callEvent(i.callId)],
    slotOf: (i) => i.callId,
  },
  // libs/redis/src/circuit-store.ts
  hookrunnerCircuit: { keys: (i) => [keys.circuit(i.origin)], slotOf: (i) => escapedOrigin(i.origin) },
  // apps/results/src/turn-assembler.ts
  // (a turn's id is made like a call's: the samples' callIds stand for turnIds too)
  hookrunnerTurnPart: { keys: (i) => [keys.turn(i.callId)], slotOf: (i) => i.callId },
};

/** keys.circuit escapes braces in an origin, so the origin is the tag whatever it holds. */
const escapedOrigin = (origin: string) => origin.replace(/\{/g, '%7B').replace(/\}/g, '%7D');

type Builder = Exclude<keyof typeof keys, 'eventsStream'>;

/** Every key builder, with the tag keys.ts documents for it. Typed by the builders' names, walked over `keys` below. */
const BUILT: Record<Builder, (i: Ids) => { key: string; tag: string }> = {
  webhooks: (i) => ({ key: keys.webhooks(i.botId), tag: i.botId }),
  idempotency: (i) => ({ key: keys.idempotency(i.botId, i.idempotencyKey), tag: i.botId }),
  failedCalls: (i) => ({ key: keys.failedCalls(i.botId), tag: i.botId }),
  rateBucket: (i) => ({ key: keys.rateBucket(i.botId), tag: i.botId }),
  signingSecrets: (i) => ({ key: keys.signingSecrets(i.botId), tag: i.botId }),
  botStats: (i) => ({ key: keys.botStats(i.botId, i.minute), tag: i.botId }),
  pendingCalls: (i) => ({ key: keys.pendingCalls(i.botId), tag: i.botId }),
  circuit: (i) => ({ key: keys.circuit(i.origin), tag: escapedOrigin(i.origin) }),
  profile: (i) => ({ key: keys.profile(i.botId, i.userId), tag: userTag(i) }),
  session: (i) => ({ key: keys.session(i.botId, i.userId, i.sessionId), tag: userTag(i) }),
  applied: (i) => ({ key: keys.applied(i.botId, i.userId, i.callId, i.run), tag: userTag(i) }),
  call: (i) => ({ key: keys.call(i.callId), tag: i.callId }),
  attempts: (i) => ({ key: keys.attempts(i.callId), tag: i.callId }),
  callEvent: (i) => ({ key: keys.callEvent(i.callId), tag: i.callId }),
  published: (i) => ({ key: keys.published(i.callId, i.run), tag: keys.eventsStream }),
  turn: (i) => ({ key: keys.turn(i.callId), tag: i.callId }),
  turnPublished: (i) => ({ key: keys.turnPublished(i.callId), tag: keys.eventsStream }),
  // The partition's own tag, the one its calls queue's BullMQ keys carry.
  results: (i) => ({
    key: keys.results(i.partition),
    tag: i.partition === 0 ? 'hookrunner' : `hookrunner:${i.partition}`,
  }),
};

const count = (text: string, char: string) => text.split(char).length - 1;

describe('keys', () => {
  describe.each(Object.keys(SCRIPTS) as ScriptName[])('the keys given to %s', (name) => {
    it('are listed here', () => {
      expect(SCRIPT_KEYS).toHaveProperty(name);
    });

    it.each(SAMPLES)('share the documented slot (bot $botId, call $callId)', (ids) => {
      const given = SCRIPT_KEYS[name].keys(ids);
      expect(given).toHaveLength(SCRIPTS[name].keys);
      const slots = given.map((key) => calculateSlot(key));
      expect(new Set(slots)).toEqual(new Set([calculateSlot(SCRIPT_KEYS[name].slotOf(ids))]));
      expect(calculateSlot.generateMulti(given)).toBe(slots[0]);
    });
  });

  describe.each(Object.keys(keys) as (keyof typeof keys)[])('%s', (name) => {
    if (name === 'eventsStream') {
      // The stream keeps its public name (README, contracts), so it carries no tag and hashes whole;
      // the published-markers' tag is that whole name, which puts them in the stream's slot.
      it('has no tag, and hashes to the slot the published-markers are tagged with', () => {
        expect(keys.eventsStream).not.toMatch(/[{}]/);
        expect(calculateSlot(keys.eventsStream)).toBe(calculateSlot(keys.published('any-call', 0)));
      });
      return;
    }

    it('is listed here', () => {
      expect(BUILT).toHaveProperty(name);
    });

    it.each(SAMPLES)('holds exactly one hash tag, the documented one (bot $botId, call $callId)', (ids) => {
      const { key, tag } = BUILT[name](ids);
      // The idempotency key is the client's text and may hold braces; it comes after the bot's tag.
      const checked = name === 'idempotency' ? key.slice(0, -ids.idempotencyKey.length) : key;
      expect([count(checked, '{'), count(checked, '}')]).toEqual([1, 1]);
      expect(checked.slice(checked.indexOf('{') + 1, checked.indexOf('}'))).toBe(tag);
      expect(calculateSlot(key)).toBe(calculateSlot(tag));
    });
  });

  it('keeps the bot tag for an idempotency key holding braces: the first tag is the one Redis uses', () => {
    for (const idempotencyKey of ['{other}', '}{', 'a{b}c', '{}']) {
      expect(calculateSlot(keys.idempotency('bot-1', idempotencyKey))).toBe(calculateSlot('bot-1'));
    }
  });
});
