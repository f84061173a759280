import { CallErrorType } from '@hookrunner/contracts';
import { circuitOpenMessage, isOriginFailure } from './origin-failure';

describe(isOriginFailure.name, () => {
  const sut = isOriginFailure;

  it('counts timeouts, network errors and 5xx only', () => {
    expect(sut({ type: CallErrorType.Timeout, message: '' })).toBe(true);
    expect(sut({ type: CallErrorType.Network, message: '' })).toBe(true);
    expect(sut({ type: CallErrorType.HttpStatus, message: '', httpStatus: 503 })).toBe(true);
    expect(sut({ type: CallErrorType.HttpStatus, message: '', httpStatus: 429 })).toBe(false);
    expect(sut({ type: CallErrorType.InvalidResponse, message: '' })).toBe(false);
    expect(sut({ type: CallErrorType.CircuitOpen, message: '' })).toBe(false);
    expect(sut({ type: CallErrorType.BlockedUrl, message: '' })).toBe(false);
    // Hookrunner's own fault says nothing about the endpoint's health.
    expect(sut({ type: CallErrorType.Internal, message: '' })).toBe(false);
    expect(sut(undefined)).toBe(false);
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
