import { Inject, Injectable } from '@nestjs/common';
import type { Job } from 'bullmq';
import type Redis from 'ioredis';
import type { WebhookCallJob } from '@hookrunner/contracts';
import { keys, REDIS } from '@hookrunner/redis';
import { DomainError, ErrorCode } from '../errors/domain-error';
import { ApiQueues } from '../queues';
import { CallRecord } from './call-record';
import { CallStatusService } from './call-status.service';

export interface FailedPage {
  calls: Omit<CallRecord, 'run' | 'lastAttempt'>[];
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  nextCursor?: string;
}

/** Calls that failed for good: listed per bot, newest first, and replayable. */
@Injectable()
export class DeadLettersService {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly queues: ApiQueues,
    private readonly status: CallStatusService,
  ) {}

  /**
   * A page of failed calls. The cursor is `<finishedAt ms>:<how many at that instant were already
   * returned>`, so paging stays stable while new failures arrive at the head.
   */
  async list(botId: string, limit: number, cursor?: string): Promise<FailedPage> {
    const [max, skip] = cursor ? parseCursor(cursor) : ['+inf', 0];
    const index = keys.failedCalls(botId);
    const page = await this.redis.zrevrangebyscore(index, max, '-inf', 'WITHSCORES', 'LIMIT', skip, limit + 1);
    const entries: { callId: string; score: number }[] = [];
    for (let i = 0; i < page.length; i += 2) entries.push({ callId: page[i], score: Number(page[i + 1]) });
    const hasMore = entries.length > limit;
    const shown = entries.slice(0, limit);

    const pipeline = this.redis.pipeline();
    for (const { callId } of shown) pipeline.get(keys.call(callId));
    const raws = ((await pipeline.exec()) ?? []).map(([, value]) => value as string | null);
    const calls = raws.flatMap((raw) => {
      if (raw === null) return [];
      const { run: _run, lastAttempt: _last, ...call } = JSON.parse(raw) as CallRecord;
      return call.status === 'failed' ? [call] : [];
    });
    const stale = shown.filter((_, i) => raws[i] === null).map((e) => e.callId);
    if (stale.length > 0) await this.redis.zrem(index, ...stale);

    if (!hasMore || shown.length === 0) return { calls };
    const last = shown[shown.length - 1].score;
    const sameInstant = shown.filter((e) => e.score === last).length + (String(last) === max ? skip : 0);
    return { calls, nextCursor: `${last}:${sameInstant}` };
  }

  /** Runs a failed call again with a fresh attempt budget; it ends in a new terminal event. */
  async retry(callId: string, authorize: (botId: string) => void): Promise<{ callId: string; status: 'queued'; run: number }> {
    const { record } = await this.status.readRecord(callId);
    if (!record) throw new DomainError(ErrorCode.CallNotFound, `no finished call ${callId} (unknown, still running, or older than its retention)`);
    authorize(record.botId);
    if (record.status !== 'failed') throw new DomainError(ErrorCode.NotRetryable, `call ${callId} ${record.status}; only failed calls can be retried`);
    const job = (await this.queues.calls.getJob(callId)) as Job<WebhookCallJob> | undefined;
    if (!job) throw new DomainError(ErrorCode.CallExpired, `call ${callId} is older than its retention and can no longer be retried`);
    const run = record.run + 1;
    await job.updateData({ ...job.data, run });
    try {
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    } catch {
      throw new DomainError(ErrorCode.NotRetryable, `call ${callId} is being retried already`);
    }
    // The old verdict goes (the replay writes a new record when it ends); its last attempt moves to
    // the log. Record and log share the call's slot, so this is one atomic step.
    await this.redis
      .multi()
      .rpush(keys.attempts(callId), JSON.stringify(record.lastAttempt))
      .expire(keys.attempts(callId), await this.redis.ttl(keys.call(callId)).then((ttl) => Math.max(ttl, 3600)))
      .del(keys.call(callId), keys.callEvent(callId))
      .exec();
    await this.redis.zrem(keys.failedCalls(record.botId), callId);
    return { callId, status: 'queued', run };
  }
}

function parseCursor(cursor: string): [string, number] {
  const match = /^(\d{1,16}):(\d{1,6})$/.exec(cursor);
  if (!match) throw new DomainError(ErrorCode.InvalidInput, 'cursor must be a value returned as nextCursor');
  return [match[1], Number(match[2])];
}
