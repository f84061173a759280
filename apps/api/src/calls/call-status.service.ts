import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import type { AttemptRecord, CallStatus, WebhookCallJob } from '@hookrunner/contracts';
import { keys, REDIS } from '@hookrunner/redis';
import { DomainError, ErrorCode } from '../errors/domain-error';
import { ApiQueues } from '../queues';
import { CallRecord, CallView } from './call-record';

/**
 * Where a call stands. A finished call has a record, written by the results consumer before it
 * publishes the event; until then the call's job says how far it got.
 */
@Injectable()
export class CallStatusService {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly queues: ApiQueues,
  ) {}

  async get(callId: string): Promise<CallView> {
    const { record, attemptLog } = await this.readRecord(callId);
    if (record) {
      const { run: _run, lastAttempt, ...rest } = record;
      return { ...rest, attemptLog: [...attemptLog, lastAttempt] };
    }

    const job = await this.queues.findCall(callId);
    if (job) return view(job.data, statusOf(await job.getState(), job.attemptsMade), job.attemptsStarted ?? job.attemptsMade, attemptLog);

    // Between the worker's last attempt and the results consumer's record, the result job holds it.
    const result = await this.queues.results.getJob(callId);
    if (result) return view(result.data, 'running', result.data.attempts, [...attemptLog, result.data.lastAttempt]);
    throw new DomainError(ErrorCode.CallNotFound, `no call ${callId} (unknown, or older than its retention)`);
  }

  /** The record and the attempt log share the call's slot: one round trip. */
  async readRecord(callId: string): Promise<{ record?: CallRecord; attemptLog: AttemptRecord[] }> {
    const replies = (await this.redis.pipeline().get(keys.call(callId)).lrange(keys.attempts(callId), 0, -1).exec()) ?? [];
    for (const [err] of replies) if (err) throw err;
    const [raw, log] = replies.map(([, value]) => value) as [string | null, string[]];
    return { record: raw === null ? undefined : (JSON.parse(raw) as CallRecord), attemptLog: log.map((entry) => JSON.parse(entry) as AttemptRecord) };
  }
}

function statusOf(state: string, attemptsMade: number): CallStatus {
  switch (state) {
    case 'active':
    case 'completed':
    case 'failed':
      return 'running';
    default:
      return attemptsMade > 0 ? 'retrying' : 'queued';
  }
}

function view(
  data: Pick<WebhookCallJob, 'callId' | 'botId' | 'webhook' | 'userId' | 'sessionId' | 'enqueuedAt'>,
  status: CallStatus,
  attempts: number,
  attemptLog: AttemptRecord[],
): CallView {
  return {
    callId: data.callId,
    botId: data.botId,
    webhook: data.webhook,
    userId: data.userId,
    sessionId: data.sessionId,
    status,
    attempts,
    createdAt: new Date(data.enqueuedAt).toISOString(),
    attemptLog,
  };
}
