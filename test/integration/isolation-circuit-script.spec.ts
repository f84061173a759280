import fc from 'fast-check';
import type Redis from 'ioredis';
import { CircuitStore, defineScripts, keys } from '@hookrunner/redis';
import {
  admitAttempt,
  CircuitRecord,
  circuitStateAt,
  CLOSED_CIRCUIT,
  recordOutcome,
  SPEC_CIRCUIT_SETTINGS,
  startRedis,
  TestRedis,
  windowCounts,
} from '../support';

const settings = SPEC_CIRCUIT_SETTINGS;

describe('circuit.lua against the rules of test/support/circuit-model', () => {
  let redis: TestRedis;
  let client: Redis;
  let sut: CircuitStore;

  beforeAll(async () => {
    redis = await startRedis();
    client = redis.client();
    sut = new CircuitStore(defineScripts(client), settings);
  });
  afterAll(async () => {
    await redis.stop();
  });

  it('answers as the pure rules do, step by step, over any sequence of attempts and outcomes', async () => {
    // Mostly short steps and failures, so circuits open; now and then a long one, so they reopen and windows slide.
    const dt = fc.oneof(
      { arbitrary: fc.integer({ min: 0, max: 300 }), weight: 12 },
      { arbitrary: fc.integer({ min: 0, max: 40_000 }), weight: 1 },
    );
    const failed = fc.integer({ min: 0, max: 3 }).map((n) => n > 0);
    const event = fc.oneof(
      fc.record({ kind: fc.constant('admit' as const), dt }),
      fc.record({ kind: fc.constant('read' as const), dt }),
      fc.record({ kind: fc.constant('record' as const), dt, failed, probe: fc.boolean() }),
    );
    let run = 0;
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 30, maxLength: 120, size: 'max' }), async (events) => {
        const origin = `http://model-${run++}.test:8080`;
        let model: CircuitRecord = CLOSED_CIRCUIT;
        let now = 1_700_000_000_000;
        for (const e of events) {
          now += e.dt;
          if (e.kind === 'admit') {
            const step = admitAttempt(model, now, settings);
            const got = await sut.admit(origin, now);
            model = step.record;
            if (step.transition) seen.add(step.transition);
            expect({ allowed: got.allowed, probe: got.probe, transition: got.transition }).toEqual({
              allowed: step.allowed,
              probe: step.probe,
              transition: step.transition,
            });
          } else if (e.kind === 'record') {
            const step = recordOutcome(model, e, now, settings);
            const got = await sut.record(origin, e, now);
            model = step.record;
            if (step.transition) seen.add(step.transition);
            expect(got.transition).toEqual(step.transition);
          }
          const [view] = await sut.read([origin], now);
          expect(view).toEqual({
            state: circuitStateAt(model, now),
            ...windowCounts(model, now, settings),
            ...(model.openedAt !== undefined && model.state !== 'closed' ? { openedAt: model.openedAt } : {}),
            ...(circuitStateAt(model, now) === 'open' ? { reopensAt: model.reopensAt } : {}),
          });
        }
      }),
      { numRuns: 60 },
    );
    // The sequences reached every transition, so every branch of the script was compared.
    expect([...seen].sort()).toEqual(['closed', 'half_open', 'open']);
  });

  it('counts outcomes recorded together as the same outcomes recorded one by one, then judges the window', async () => {
    const [together, oneByOne] = ['http://together.test', 'http://one-by-one.test'];
    const now = Date.now();
    expect(await sut.recordMany(together, 9, 4, now)).toMatchObject({ state: 'closed', attempts: 9, failures: 4 });
    for (let i = 0; i < 9; i++) await sut.record(oneByOne, { failed: i < 4, probe: false }, now);
    expect((await sut.read([oneByOne], now))[0]).toEqual((await sut.read([together], now))[0]);
    // The tenth attempt, failed: 5 of 10 reach the 50% share, and the circuit opens.
    expect(await sut.recordMany(together, 1, 1, now)).toMatchObject({ state: 'open', transition: 'open' });
    expect(await sut.recordMany(together, 3, 0, now)).toMatchObject({ state: 'open', attempts: 10, failures: 5 });
  });

  it('keeps one key per origin, expiring, with braces in the origin escaped', async () => {
    const origin = 'http://a{b}.test';
    await sut.record(origin, { failed: true, probe: false });
    expect(keys.circuit(origin)).toBe('hookrunner:circuit:{http://a%7Bb%7D.test}');
    const ttl = await client.pttl(keys.circuit(origin));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(settings.windowMs + 2 * settings.openMs);
  });
});
