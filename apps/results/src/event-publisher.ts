import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';
import { eventsChannel, RESULT_MARKER_TTL_SECONDS, type CallEvent, type CallResultJob } from '@hookrunner/contracts';
import { CallRepository, countCall, keepsOrder, keys, type RedisClient, STATE_REDIS } from '@hookrunner/redis';

/** Records a finished call and publishes its event, exactly once per call and run. */
@Injectable()
export class EventPublisher {
  constructor(
    @Inject(STATE_REDIS) private readonly redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly calls: CallRepository,
  ) {}

  /** True when published now; false when this call's run had been published already. */
  async publish(result: CallResultJob, event: CallEvent): Promise<boolean> {
    const failed = event.type === 'call.failed';
    const retention = failed ? this.config.retention.failedSeconds : this.config.retention.succeededSeconds;
    const raw = JSON.stringify(event);
    const ended = this.calls.ended(
      result,
      {
        status: failed ? 'failed' : 'succeeded',
        attempts: event.attempts,
        finishedAt: result.finishedAt,
        lastAttempt: result.lastAttempt,
        ...(failed ? { error: event.error } : { result: result.reply }),
      },
      retention,
      raw,
    );
    // The bot's own keys, one slot: the dead-letter index (newest last, trimmed to the retention
    // window as it grows) and the per-bot stats. A result replayed after a crash past this point
    // counts twice in the stats (never in the event stream, whose marker holds).
    // Single commands, not a pipeline: the connection auto-pipelines, so they leave in one write
    // with the rest of the batch's results (a pipeline would cost a write of its own per result).
    const botWrites: Promise<unknown>[] = [
      countCall(this.redis, event.botId, result.outcome, Math.max(0, Date.now() - result.enqueuedAt) / 1000),
    ];
    if (failed) {
      const failedIndex = keys.failedCalls(event.botId);
      botWrites.push(
        this.redis.zadd(failedIndex, result.finishedAt, event.callId),
        this.redis.zremrangebyscore(failedIndex, '-inf', Date.now() - retention * 1000),
      );
    }
    // The record before the event, so a bot engine that reads GET /v1/calls/{callId} on the event
    // finds it final. One connection applies commands in the order sent, so both leave in one
    // batch; a cluster may apply them on different nodes in any order, so there the event waits.
    if (!keepsOrder(this.redis)) await ended;
    const published = this.redis.hookrunnerPublishEvent(
      keys.published(event.callId, result.run),
      keys.eventsStream,
      RESULT_MARKER_TTL_SECONDS,
      this.config.events.streamMaxLen,
      eventsChannel(event.botId),
      raw,
      event.type,
      event.botId,
      'callId',
      event.callId,
    );
    const [, , publishedNow] = await Promise.all([ended, Promise.all(botWrites), published]);
    return publishedNow === 1;
  }
}
