import { CallErrorType } from '@hookrunner/contracts';
import { circuitOpenMessage, originVerdict } from './origin-failure';

describe(originVerdict.name, () => {
  const sut = originVerdict;

  it('counts timeouts, network errors and 5xx as failures', () => {
    expect(sut({ type: CallErrorType.Timeout, message: '' })).toBe('failure');
    expect(sut({ type: CallErrorType.Network, message: '' })).toBe('failure');
    expect(sut({ type: CallErrorType.HttpStatus, message: '', httpStatus: 503 })).toBe('failure');
  });

  it('counts an answer as healthy: a success, a 4xx, an invalid reply', () => {
    expect(sut(undefined)).toBe('healthy');
    expect(sut({ type: CallErrorType.HttpStatus, message: '', httpStatus: 429 })).toBe('healthy');
    expect(sut({ type: CallErrorType.InvalidResponse, message: '' })).toBe('healthy');
  });

  it('does not count what says nothing of the server: a blocked URL, the breaker, Hookrunner’s own fault', () => {
    expect(sut({ type: CallErrorType.CircuitOpen, message: '' })).toBe('none');
    expect(sut({ type: CallErrorType.BlockedUrl, message: '' })).toBe('none');
    expect(sut({ type: CallErrorType.Internal, message: '' })).toBe('none');
  });
});

describe(circuitOpenMessage.name, () => {
  it('names the origin and when it reopens', () => {
    const message = circuitOpenMessage('http://h:1', {
      state: 'open',
      reopensAt: Date.UTC(2026, 0, 1),
      attempts: 10,
      failures: 10,
    });
    expect(message).toContain('http://h:1');
    expect(message).toContain('reopens at 2026-01-01T00:00:00.000Z');
  });
});
