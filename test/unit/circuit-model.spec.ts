import fc from 'fast-check';
import {
  admitAttempt,
  CircuitRecord,
  circuitStateAt,
  CLOSED_CIRCUIT,
  recordOutcome,
  SPEC_CIRCUIT_SETTINGS,
  windowCounts,
} from '../support/circuit-model';

// The oracle of test/integration/isolation-circuit-script.spec.ts, tested on its own, without Redis.
const settings = SPEC_CIRCUIT_SETTINGS;

/** Records `n` outcomes at `now`, the last `failed` of them failures. */
function feed(record: CircuitRecord, n: number, failed: number, now: number): CircuitRecord {
  for (let i = 0; i < n; i++)
    record = recordOutcome(record, { failed: i >= n - failed, probe: false }, now, settings).record;
  return record;
}

describe(recordOutcome.name, () => {
  const sut = recordOutcome;

  it('opens at 10 attempts in the window with half of them failed', () => {
    const nine = feed(CLOSED_CIRCUIT, 9, 5, 1_000);
    expect(nine.state).toBe('closed');
    const step = sut(nine, { failed: false, probe: false }, 1_000, settings);
    expect(step).toMatchObject({ transition: 'open', record: { state: 'open', openedAt: 1_000, reopensAt: 31_000 } });
  });

  it('stays closed below the ratio, however many attempts', () => {
    expect(feed(CLOSED_CIRCUIT, 1_000, 499, 1_000).state).toBe('closed');
  });

  it('forgets outcomes older than the window', () => {
    const old = feed(CLOSED_CIRCUIT, 9, 9, 0);
    expect(windowCounts(old, 59_999, settings)).toEqual({ attempts: 9, failures: 9 });
    expect(windowCounts(old, 60_000, settings)).toEqual({ attempts: 0, failures: 0 });
    expect(sut(old, { failed: true, probe: false }, 60_000, settings).record.state).toBe('closed');
  });

  it('ignores late outcomes of attempts that were not probes while open or half-open', () => {
    const open = feed(CLOSED_CIRCUIT, 10, 10, 0);
    expect(sut(open, { failed: false, probe: false }, 5, settings)).toEqual({ record: open });
    const halfOpen = admitAttempt(open, 30_000, settings).record;
    expect(sut(halfOpen, { failed: true, probe: false }, 30_001, settings)).toEqual({ record: halfOpen });
  });
});

describe(admitAttempt.name, () => {
  const sut = admitAttempt;
  const open = feed(CLOSED_CIRCUIT, 10, 10, 0);

  it('lets everything through while closed', () => {
    expect(sut(CLOSED_CIRCUIT, 0, settings)).toMatchObject({ allowed: true, probe: false });
  });

  it('refuses while open, then lets a few probes through', () => {
    expect(sut(open, 29_999, settings)).toMatchObject({ allowed: false });
    let record = open;
    const answers: boolean[] = [];
    for (let i = 0; i < 5; i++) {
      const step = sut(record, 30_000 + i, settings);
      answers.push(step.allowed);
      if (i === 0) expect(step.transition).toBe('half_open');
      record = step.record;
    }
    expect(answers).toEqual([true, true, true, false, false]);
  });

  it('closes on a probe’s success and reopens on a probe’s failure', () => {
    const probing = sut(open, 30_000, settings).record;
    expect(recordOutcome(probing, { failed: false, probe: true }, 30_010, settings)).toEqual({
      record: CLOSED_CIRCUIT,
      transition: 'closed',
    });
    expect(recordOutcome(probing, { failed: true, probe: true }, 30_010, settings)).toMatchObject({
      transition: 'open',
      record: { state: 'open', openedAt: 30_010, reopensAt: 60_010 },
    });
  });

  it('hands probe permits out again when their outcomes never came', () => {
    let record = open;
    for (let i = 0; i < 3; i++) record = sut(record, 30_000, settings).record;
    expect(sut(record, 59_999, settings).allowed).toBe(false);
    expect(sut(record, 60_000, settings).allowed).toBe(true);
  });
});

describe('the circuit over any sequence of events', () => {
  it('never refuses while closed, lets at most the probes through while half-open, and reads as it behaves', () => {
    const event = fc.oneof(
      fc.record({ kind: fc.constant('admit' as const), dt: fc.integer({ min: 0, max: 20_000 }) }),
      fc.record({
        kind: fc.constant('record' as const),
        dt: fc.integer({ min: 0, max: 20_000 }),
        failed: fc.boolean(),
        probe: fc.boolean(),
      }),
    );
    fc.assert(
      fc.property(fc.array(event, { minLength: 30, maxLength: 200, size: 'max' }), (events) => {
        let record = CLOSED_CIRCUIT;
        let now = 0;
        // Probe permits handed out in the current half-open stretch (a new one starts whenever
        // the circuit goes half-open again or hands out a fresh set of permits).
        let permits = 0;
        let stretch: number | undefined;
        for (const e of events) {
          now += e.dt;
          let probe = false;
          if (e.kind === 'admit') {
            const before = circuitStateAt(record, now);
            const step = admitAttempt(record, now, settings);
            if (before === 'closed') expect(step.allowed).toBe(true);
            if (before === 'open') expect(step.allowed).toBe(false);
            probe = step.probe;
            record = step.record;
          } else {
            record = recordOutcome(record, e, now, settings).record;
          }
          if (record.state !== 'half_open' || record.halfOpenAt !== stretch) {
            permits = 0;
            stretch = record.state === 'half_open' ? record.halfOpenAt : undefined;
          }
          if (probe) permits++;
          expect(permits).toBeLessThanOrEqual(settings.halfOpenProbes);
          expect(record.probes).toBeLessThanOrEqual(settings.halfOpenProbes);
          if (record.state === 'open') expect(record.reopensAt).toBe((record.openedAt ?? NaN) + settings.openMs);
        }
      }),
    );
  });
});
