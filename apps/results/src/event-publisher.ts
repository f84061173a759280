import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';
import { eventsChannel, RESULT_MARKER_TTL_SECONDS, type CallEvent, type CallResultJob } from '@hookrunner/contracts';
import { CallRepository, countCall, keys, replies, STATE_REDIS } from '@hookrunner/redis';

/**
 * Records a finished call and publishes its event, exactly once per call and run. The record is
 * written first, so a bot engine that reads GET /v1/calls/{callId} on the event finds it final.
 */
@Injectable()
export class EventPublisher {
  constructor(
    @Inject(STATE_REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly calls: CallRepository,
  ) {}

  /** True when published now; false when this call's run had been published already. */
  async publish(result: CallResultJob, event: CallEvent): Promise<boolean> {
    const failed = event.type === 'call.failed';
    const retention = failed ? this.config.retention.failedSeconds : this.config.retention.succeededSeconds;
    // One round trip, executed in order: the record (and dead-letter index) before the event.
    const pipeline = this.redis.pipeline();
    this.calls.ended(pipeline, result, {
      status: failed ? 'failed' : 'succeeded',
      attempts: event.attempts,
      finishedAt: result.finishedAt,
      lastAttempt: result.lastAttempt,
      ...(failed ? { error: event.error } : { result: result.reply }),
    }, retention);
    if (failed) {
      // The bot's dead-letter index: newest last, trimmed to the retention window as it grows.
      const failedIndex = keys.failedCalls(event.botId);
      pipeline.zadd(failedIndex, result.finishedAt, event.callId).zremrangebyscore(failedIndex, '-inf', Date.now() - retention * 1000);
    }
    pipeline.hookrunnerPublishEvent(
      keys.published(event.callId, result.run),
      keys.eventsStream,
      RESULT_MARKER_TTL_SECONDS,
      this.config.events.streamMaxLen,
      eventsChannel(event.botId),
      JSON.stringify(event),
      event.type,
      event.botId,
      event.callId,
    );
    // Per-bot stats ride along; a result replayed after a crash past this point counts twice there
    // (never in the event stream, whose marker holds).
    countCall(pipeline, event.botId, result.outcome, Math.max(0, Date.now() - result.enqueuedAt) / 1000);
    return replies(await pipeline.exec())[failed ? 3 : 1] === 1;
  }
}
