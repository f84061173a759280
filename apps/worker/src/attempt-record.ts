import { ATTEMPT_BODY_EXCERPT_CHARS, AttemptRecord, CallError } from '@hookrunner/contracts';
import type { AttemptReport } from '@hookrunner/outbound';

/** What the attempt log keeps of one attempt: never headers, at most the start of the body. */
export function attemptRecord(run: number, attempt: number, startedAt: Date, report: AttemptReport): AttemptRecord {
  const record: AttemptRecord = {
    run,
    attempt,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(report.durationMs),
  };
  if (report.exchange) {
    record.httpStatus = report.exchange.status;
    if (report.exchange.body.length > 0) record.bodyExcerpt = report.exchange.body.slice(0, ATTEMPT_BODY_EXCERPT_CHARS);
  }
  if (report.outcome.kind !== 'success') record.error = report.outcome.error;
  return record;
}

/** The log entry for an attempt that never reported (its worker died, or a bug threw). */
export function lostAttemptRecord(run: number, attempt: number, error: CallError): AttemptRecord {
  return { run, attempt, startedAt: new Date().toISOString(), durationMs: 0, error };
}
