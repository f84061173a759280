import { Injectable } from '@nestjs/common';
import { ErrorCode, type CallView } from '@hookrunner/contracts';
import { CallRepository } from '@hookrunner/redis';
import { DomainError } from '../errors/domain-error';

/** Where a call stands, as its record says: written at enqueue, at each attempt and at the end. */
@Injectable()
export class CallStatusService {
  constructor(private readonly calls: CallRepository) {}

  async get(callId: string): Promise<CallView> {
    const found = await this.calls.find(callId);
    if (!found)
      throw new DomainError(ErrorCode.CallNotFound, `no call ${callId} (unknown, or older than its retention)`);
    const { run: _run, lastAttempt, ...call } = found.call;
    return { ...call, attemptLog: lastAttempt ? [...found.attemptLog, lastAttempt] : found.attemptLog };
  }
}
