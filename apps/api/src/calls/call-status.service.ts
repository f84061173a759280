import { Injectable } from '@nestjs/common';
import { ErrorCode, type AttemptRecord, type CallView } from '@hookrunner/contracts';
import { CallRepository, type StoredCall } from '@hookrunner/redis';
import { DomainError } from '../errors/domain-error';

/** A stored call as the API shows it: without the bookkeeping of its runs. */
export function shownCall(stored: StoredCall): Omit<CallView, 'attemptLog'> {
  const { run: _run, lastAttempt: _lastAttempt, ...call } = stored;
  return call;
}

/** Where a call stands, as its record says: written at enqueue, at each attempt and at the end. */
@Injectable()
export class CallStatusService {
  constructor(private readonly calls: CallRepository) {}

  async get(callId: string): Promise<CallView> {
    const { call, attemptLog } = await this.record(callId);
    return { ...shownCall(call), attemptLog: call.lastAttempt ? [...attemptLog, call.lastAttempt] : attemptLog };
  }

  /** The call's record, or CallNotFound. */
  async record(callId: string): Promise<{ call: StoredCall; attemptLog: AttemptRecord[] }> {
    const found = await this.calls.find(callId);
    if (!found)
      throw new DomainError(ErrorCode.CallNotFound, `no call ${callId} (unknown, or older than its retention)`);
    return found;
  }
}
