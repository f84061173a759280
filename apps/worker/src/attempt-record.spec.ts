import { CallErrorType } from '@hookrunner/contracts';
import { attemptRecord } from './attempt-record';

describe(attemptRecord.name, () => {
  const sut = attemptRecord;
  const startedAt = new Date('2026-01-01T00:00:00Z');

  it('keeps the status and the start of the body of an answered attempt', () => {
    const body = 'x'.repeat(2_000);
    const record = sut(0, 2, startedAt, {
      durationMs: 12.6,
      exchange: { status: 503, headers: {}, body, bytes: body.length, durationMs: 12.6 },
      outcome: {
        kind: 'retry',
        error: { type: CallErrorType.HttpStatus, message: 'endpoint answered HTTP 503', httpStatus: 503 },
      },
    });
    expect(record).toEqual({
      run: 0,
      attempt: 2,
      startedAt: '2026-01-01T00:00:00.000Z',
      durationMs: 13,
      httpStatus: 503,
      bodyExcerpt: 'x'.repeat(512),
      error: { type: 'http_status', message: 'endpoint answered HTTP 503', httpStatus: 503 },
    });
  });

  it('has no status or body when nothing answered, and no error when it succeeded', () => {
    const timeout = sut(1, 1, startedAt, {
      durationMs: 100,
      outcome: { kind: 'retry', error: { type: CallErrorType.Timeout, message: 'request timed out' } },
    });
    expect(timeout).not.toHaveProperty('httpStatus');
    expect(timeout).not.toHaveProperty('bodyExcerpt');
    expect(timeout.error?.type).toBe('timeout');

    const ok = sut(0, 1, startedAt, {
      durationMs: 5,
      exchange: { status: 200, headers: {}, body: '{"responses":[]}', bytes: 16, durationMs: 5 },
      outcome: { kind: 'success', reply: { responses: [], quickreplies: [], memory: {}, user_attributes: {} } },
    });
    expect(ok).not.toHaveProperty('error');
    expect(ok.bodyExcerpt).toBe('{"responses":[]}');
  });
});
