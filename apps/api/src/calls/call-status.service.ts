import { Inject, Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import type Redis from 'ioredis';
import type { CallStatus, WebhookCallJob } from '@hookrunner/contracts';
import { keys, REDIS } from '@hookrunner/redis';
import { DomainError, ErrorCode } from '../errors/domain-error';
import { ApiQueues } from '../queues';
import { CallView } from './call-record';

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
    const record = await this.redis.get(keys.call(callId));
    if (record !== null) return JSON.parse(record) as CallView;

    const job = (await this.queues.calls.getJob(callId)) as Job<WebhookCallJob> | undefined;
    if (job) return view(job.data, statusOf(await job.getState(), job.attemptsMade), job.attemptsStarted ?? job.attemptsMade);

    // Between the worker's last attempt and the results consumer's record, the result job holds it.
    const result = await this.queues.results.getJob(callId);
    if (result) return view(result.data, 'running', result.data.attempts);
    throw new DomainError(ErrorCode.CallNotFound, `no call ${callId} (unknown, or older than its retention)`);
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

function view(data: Pick<WebhookCallJob, 'callId' | 'botId' | 'webhook' | 'userId' | 'sessionId' | 'enqueuedAt'>, status: CallStatus, attempts: number): CallView {
  return {
    callId: data.callId,
    botId: data.botId,
    webhook: data.webhook,
    userId: data.userId,
    sessionId: data.sessionId,
    status,
    attempts,
    createdAt: new Date(data.enqueuedAt).toISOString(),
  };
}
