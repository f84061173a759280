import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';
import {
  CALL_EVENT_TTL_SECONDS,
  RESULT_MARKER_TTL_SECONDS,
  type CallEvent,
  type CallResultJob,
} from '@hookrunner/contracts';
import { countCall, eventsChannel, keys, PUBLISH_EVENT_LUA, STATE_REDIS } from '@hookrunner/redis';

/**
 * Records a finished call and publishes its event, exactly once per call and run. The record is
 * written first, so a bot engine that reads GET /v1/calls/{callId} on the event finds it final.
 */
@Injectable()
export class EventPublisher {
  constructor(
    @Inject(STATE_REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.redis.defineCommand('hookrunnerPublishEvent', { numberOfKeys: 2, lua: PUBLISH_EVENT_LUA });
  }

  /** True when published now; false when this call's run had been published already. */
  async publish(result: CallResultJob, event: CallEvent): Promise<boolean> {
    const failed = event.type === 'call.failed';
    const retention = failed ? this.config.retention.failedSeconds : this.config.retention.succeededSeconds;
    const record = {
      callId: event.callId,
      botId: event.botId,
      webhook: event.webhook,
      userId: event.userId,
      sessionId: event.sessionId,
      status: failed ? 'failed' : 'succeeded',
      attempts: event.attempts,
      createdAt: new Date(result.enqueuedAt).toISOString(),
      finishedAt: event.finishedAt,
      run: result.run,
      lastAttempt: result.lastAttempt,
      ...(failed ? { error: event.error } : { result: result.reply }),
    };
    // One round trip, executed in order: the record (and dead-letter index) before the event.
    const raw = JSON.stringify(event);
    const pipeline = this.redis
      .pipeline()
      .set(keys.call(event.callId), JSON.stringify(record), 'EX', retention)
      // Before the publish: a waited enqueue that subscribed too late for the message finds it here.
      .set(keys.callEvent(event.callId), raw, 'EX', CALL_EVENT_TTL_SECONDS);
    if (failed) {
      // The bot's dead-letter index: newest last, trimmed to the retention window as it grows.
      const failedIndex = keys.failedCalls(event.botId);
      pipeline.zadd(failedIndex, result.finishedAt, event.callId).zremrangebyscore(failedIndex, '-inf', Date.now() - retention * 1000);
    }
    (pipeline as unknown as PublishCommand).hookrunnerPublishEvent(
      keys.published(event.callId, result.run),
      keys.eventsStream,
      RESULT_MARKER_TTL_SECONDS,
      this.config.events.streamMaxLen,
      eventsChannel(event.botId),
      raw,
      event.type,
      event.botId,
      event.callId,
    );
    // Per-bot stats ride along; a result replayed after a crash past this point counts twice there
    // (never in the event stream, whose marker holds).
    countCall(pipeline, event.botId, result.outcome, Math.max(0, Date.now() - result.enqueuedAt) / 1000);
    const replies = (await pipeline.exec()) ?? [];
    for (const [err] of replies) if (err) throw err;
    return replies[failed ? 4 : 2][1] === 1;
  }
}

type PublishCommand = { hookrunnerPublishEvent(...args: (string | number)[]): unknown };
