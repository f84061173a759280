import type Redis from 'ioredis';
import { CallErrorType, type CallError } from '@hookrunner/contracts';
import type { CircuitSettings } from '@hookrunner/isolation';
import { CircuitStore, defineScripts } from '@hookrunner/redis';
import { OriginGuard } from '../../apps/worker/src/origin-guard';
import { pollUntil, startRedis, TestRedis } from '../support';

/*
 * The worker's guard feeding a real circuit: what an attempt says of its origin decides what is
 * recorded. Hookrunner's own fault says nothing of the server, so a probe that ends in it must
 * neither close nor reopen a half-open circuit.
 */

const settings: CircuitSettings = {
  windowMs: 60_000,
  minAttempts: 4,
  failurePercent: 50,
  openMs: 300,
  halfOpenProbes: 3,
};
const internal: CallError = { type: CallErrorType.Internal, message: 'internal error while sending the request' };

describe('OriginGuard with a circuit in Redis', () => {
  let redis: TestRedis;
  let client: Redis;
  let store: CircuitStore;

  beforeAll(async () => {
    redis = await startRedis();
    client = redis.client();
    store = new CircuitStore(defineScripts(client), settings);
  });
  afterAll(async () => {
    await redis.stop();
  });

  /**
   * Opens the origin's circuit CIRCUIT_OPEN_MS ago (the script takes its caller's clock), so it may
   * be probed now, and takes a probe through the guard.
   */
  async function probeThrough(sut: OriginGuard, url: string, origin: string) {
    await store.recordMany(origin, settings.minAttempts, settings.minAttempts, Date.now() - settings.openMs);
    const clearance = await sut.clear(url, 1_000);
    if (clearance.kind !== 'go' || !clearance.probe) throw new Error(`expected a probe, got ${clearance.kind}`);
    return clearance;
  }

  const stateOf = async (origin: string) => (await store.read([origin]))[0];

  it('records nothing for a probe that ends in Hookrunner’s own fault: the circuit stays half-open', async () => {
    const sut = new OriginGuard(store, 20);
    const [url, origin] = ['http://own-fault.test:8080/hook', 'http://own-fault.test:8080'];
    const probe = await probeThrough(sut, url, origin);

    sut.finish(probe, 5, internal);
    // finish() does not await a probe's record, but sends it before it returns, on the connection
    // this read takes after it: a recorded outcome would show here.
    expect(await stateOf(origin)).toMatchObject({ state: 'half_open' });

    // The next probe that gets an answer decides, as always.
    const next = await sut.clear(url, 1_000);
    if (next.kind !== 'go' || !next.probe) throw new Error(`expected a second probe, got ${next.kind}`);
    sut.finish(next, 5, undefined);
    await pollUntil(async () => (await stateOf(origin)).state === 'closed', {
      timeoutMs: 2_000,
      message: 'an answered probe did not close the circuit',
    });
  });

  it('reopens the circuit for a probe that times out', async () => {
    const sut = new OriginGuard(store, 20);
    const [url, origin] = ['http://timing-out.test:8080/hook', 'http://timing-out.test:8080'];
    const probe = await probeThrough(sut, url, origin);

    sut.finish(probe, 1_000, { type: CallErrorType.Timeout, message: 'request timed out' });
    await pollUntil(async () => (await stateOf(origin)).state === 'open', {
      timeoutMs: 2_000,
      message: 'a failed probe did not reopen the circuit',
    });
  });
});
