import { AttemptOutcome, classifyError, classifyResponse, OutgoingRequest } from '@hookrunner/webhook';
import { HttpCaller, HttpExchange } from './http-caller';

export interface AttemptReport {
  outcome: AttemptOutcome;
  /** Absent when no response arrived (timeout, network error). */
  exchange?: HttpExchange;
  durationMs: number;
}

/** Performs one attempt and says what it means; never throws for anything the endpoint does. */
export async function performAttempt(
  caller: HttpCaller,
  req: OutgoingRequest,
  timeoutMs: number,
): Promise<AttemptReport> {
  const started = performance.now();
  try {
    const exchange = await caller.send(req, timeoutMs);
    return {
      outcome: classifyResponse(exchange.status, exchange.headers, exchange.body),
      exchange,
      durationMs: exchange.durationMs,
    };
  } catch (err) {
    return { outcome: classifyError(err), durationMs: performance.now() - started };
  }
}
