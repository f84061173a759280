import { type CallError, CallErrorType } from '@hookrunner/contracts';

/**
 * What an attempt says about its origin's health, for the circuit:
 * - `failure`: a timeout, a network error or a 5xx say the server is in trouble.
 * - `healthy`: the server answered (2xx, a 4xx, an invalid reply): it is up.
 * - `none`: no exchange with the server took place or it says nothing of it: a blocked URL, a
 *   refusal by the breaker itself, or Hookrunner's own fault (`internal`). Such an attempt is not
 *   recorded at all, so it neither dilutes the failure ratio nor closes a half-open circuit.
 */
export type OriginVerdict = 'failure' | 'healthy' | 'none';

export function originVerdict(error: CallError | undefined): OriginVerdict {
  if (!error) return 'healthy';
  switch (error.type) {
    case CallErrorType.Timeout:
    case CallErrorType.Network:
      return 'failure';
    case CallErrorType.HttpStatus:
      return (error.httpStatus ?? 0) >= 500 ? 'failure' : 'healthy';
    case CallErrorType.InvalidResponse:
      return 'healthy';
    case CallErrorType.BlockedUrl:
    case CallErrorType.CircuitOpen:
    case CallErrorType.Internal:
      return 'none';
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
