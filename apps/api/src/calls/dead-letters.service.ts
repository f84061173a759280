import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';
import { ErrorCode, type CallView } from '@hookrunner/contracts';
import { CallRepository, keys, REDIS, type RedisClient } from '@hookrunner/redis';
import { DomainError } from '../errors/domain-error';
import { ApiQueues } from '../queues';
import { CallStatusService, shownCall } from './call-status.service';

export interface FailedPage {
  calls: Omit<CallView, 'attemptLog'>[];
  /** Pass as `cursor` for the next (older) page; absent on the last page. */
  nextCursor?: string;
}

/** Calls that failed for good: listed per bot, newest first, and replayable. */
@Injectable()
export class DeadLettersService {
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly queues: ApiQueues,
    private readonly calls: CallRepository,
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

    const found = await this.calls.findMany(shown.map((e) => e.callId));
    const calls = found.flatMap((stored) => (stored?.status === 'failed' ? [shownCall(stored)] : []));
    const stale = shown.filter((_, i) => found[i] === undefined).map((e) => e.callId);
    if (stale.length > 0) await this.redis.zrem(index, ...stale);

    if (!hasMore || shown.length === 0) return { calls };
    const last = shown[shown.length - 1].score;
    const sameInstant = shown.filter((e) => e.score === last).length + (String(last) === max ? skip : 0);
    return { calls, nextCursor: `${last}:${sameInstant}` };
  }

  /** Runs a failed call again with a fresh attempt budget; it ends in a new terminal event. */
  async retry(
    callId: string,
    mayAccess: (botId: string) => void,
  ): Promise<{ callId: string; status: 'queued'; run: number }> {
    const { call } = await this.status.record(callId);
    mayAccess(call.botId);
    if (call.status !== 'failed')
      throw new DomainError(
        ErrorCode.NotRetryable,
        `call ${callId} is ${call.status}; only failed calls can be retried`,
      );
    if (!(await this.queues.isReplayable(callId))) {
      throw new DomainError(
        ErrorCode.CallExpired,
        `call ${callId} is older than its retention and can no longer be retried`,
      );
    }
    // The record moves first (failed at run n → queued at run n + 1, atomically): of two retries
    // at once only one gets past this, and the replay's own writes never meet an older verdict.
    const run = call.run + 1;
    const moved = await this.calls.replayed(callId, run, this.config.retention.failedSeconds);
    if (!moved.written) throw new DomainError(ErrorCode.NotRetryable, `call ${callId} is being retried already`);
    await this.queues.replay(callId, run);
    await this.redis.zrem(keys.failedCalls(call.botId), callId);
    return { callId, status: 'queued', run };
  }
}

function parseCursor(cursor: string): [string, number] {
  const match = /^(\d{1,16}):(\d{1,6})$/.exec(cursor);
  if (!match) throw new DomainError(ErrorCode.InvalidInput, 'cursor must be a value returned as nextCursor');
  return [match[1], Number(match[2])];
}
