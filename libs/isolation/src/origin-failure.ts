import { type CallError, CallErrorType } from '@hookrunner/contracts';

/**
 * Whether an attempt's error counts against its origin's circuit: a timeout, a network error or
 * a 5xx say the server is in trouble. A 4xx, an invalid reply, a blocked URL or Hookrunner's own
 * fault (`internal`) say nothing about its health, and a refusal by the breaker itself never
 * feeds the breaker.
 */
export function isOriginFailure(error: CallError | undefined): boolean {
  if (!error) return false;
  switch (error.type) {
    case CallErrorType.Timeout:
    case CallErrorType.Network:
      return true;
    case CallErrorType.HttpStatus:
      return (error.httpStatus ?? 0) >= 500;
    case CallErrorType.InvalidResponse:
    case CallErrorType.BlockedUrl:
    case CallErrorType.CircuitOpen:
    case CallErrorType.Internal:
      return false;
  }
}

/** The message of a `circuit_open` failure: names the origin and when attempts go out again. */
export function circuitOpenMessage(
  origin: string,
  circuit: { state: string; reopensAt?: number; attempts: number; failures: number },
): string {
  if (circuit.state === 'open' && circuit.reopensAt !== undefined) {
    return (
      `circuit open for ${origin} (too many timeouts, network errors or 5xx lately): no request sent; ` +
      `it reopens at ${new Date(circuit.reopensAt).toISOString()}`
    );
  }
  return `circuit half-open for ${origin}: probe calls are testing it and no other request is sent until one succeeds`;
}
