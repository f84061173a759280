import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';
import {
  type CallResultJob,
  eventsChannel,
  RESULT_MARKER_TTL_SECONDS,
  type TurnMembership,
  type TurnPart,
} from '@hookrunner/contracts';
import { eventsPublishedTotal } from '@hookrunner/observability';
import { keys, type RedisClient, STATE_REDIS } from '@hookrunner/redis';
import { buildTurnEvent, turnChanges, turnPart } from './build-event';
import { StateMergeService } from './state-merge.service';

/**
 * Completes turns. Each ended call of a turn is kept as a part (once, whatever the replays); the
 * call that brings the last part merges the turn's changes in declared order and publishes
 * `turn.completed`, once (its marker), on the bot's channel and the stream. Every step is
 * idempotent, so a result applied again after a crash at any point completes the turn exactly once.
 */
@Injectable()
export class TurnAssembler {
  private readonly logger = new Logger('turns');

  constructor(
    @Inject(STATE_REDIS) private readonly redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly state: StateMergeService,
  ) {}

  /** Called for every ended call of a turn, after the call's own event, and again on any replay. */
  async callEnded(result: CallResultJob & { turn: TurnMembership }): Promise<void> {
    const { turn } = result;
    // Parts live as long as a failed call may still be replayed into its turn.
    const ttl = Math.max(this.config.retention.failedSeconds, RESULT_MARKER_TTL_SECONDS);
    const stored = await this.redis.hookrunnerTurnPart(
      keys.turn(turn.turnId),
      turn.index + 1,
      JSON.stringify(turnPart(result)),
      turn.callIds.length,
      ttl,
    );
    if (!stored) return;
    const parts = stored.map((part) => JSON.parse(part) as TurnPart);
    const merged = await this.state.merge(
      result,
      keys.applied(result.botId, result.userId, turn.turnId, 0),
      turnChanges(parts),
    );
    const event = buildTurnEvent(result, parts, merged);
    const raw = JSON.stringify(event);
    const [, published] = await Promise.all([
      // Kept for a waited turn whose idempotency key replays it after it ended.
      this.redis.hset(keys.turn(turn.turnId), 'event', raw),
      this.redis.hookrunnerPublishEvent(
        keys.turnPublished(turn.turnId),
        keys.eventsStream,
        RESULT_MARKER_TTL_SECONDS,
        this.config.events.streamMaxLen,
        eventsChannel(result.botId),
        raw,
        event.type,
        result.botId,
        'turnId',
        turn.turnId,
      ),
    ]);
    if (published !== 1) return;
    eventsPublishedTotal.inc({ type: event.type });
    this.logger.log(
      {
        turnId: turn.turnId,
        botId: result.botId,
        calls: parts.length,
        failed: parts.filter((part) => part.outcome === 'failed').length,
        durationMs: event.durationMs,
      },
      'turn completed',
    );
  }
}
