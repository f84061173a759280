import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';
import type { CallResultJob } from '@hookrunner/contracts';
import { callLatencySeconds, callsTotal, eventsPublishedTotal, Readiness } from '@hookrunner/observability';
import {
  BACKGROUND_REDIS,
  BackgroundRedisLifecycle,
  MAX_STATE_FIELDS,
  type RedisClient,
  ResultConsumer,
  ResultStream,
} from '@hookrunner/redis';
import { buildEvent, refusedResult } from './build-event';
import { EventPublisher } from './event-publisher';
import { StateMergeService } from './state-merge.service';
import { TurnAssembler } from './turn-assembler';

/** Consumes finished calls: merge state, publish the event, count and log the call once. */
@Injectable()
export class ResultProcessor implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('results');
  private consumer: ResultConsumer;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly merge: StateMergeService,
    private readonly publisher: EventPublisher,
    private readonly turns: TurnAssembler,
    private readonly readiness: Readiness,
    @Inject(BACKGROUND_REDIS) private readonly connection: RedisClient,
    private readonly background: BackgroundRedisLifecycle,
    private readonly results: ResultStream,
  ) {}

  onModuleInit(): void {
    // A loop per partition of the results stream, as the calls queue has partitions: on a cluster
    // the results of a partition stay on its master. Each result of a batch is handled on its own,
    // and the batch's scripts leave together on the state connection (it auto-pipelines).
    this.consumer = new ResultConsumer(this.results, this.connection, (result) => this.process(result), {
      partitions: this.config.isolation.partitions,
      batch: this.config.results.concurrency,
      // A consumer alive renews nothing: a result is presumed abandoned once it has waited as long
      // as a worker's lock on a call, and every step of a result is idempotent if it was not.
      claimIdleMs: this.config.worker.lockDurationMs,
      claimIntervalMs: this.config.worker.stalledIntervalMs,
      onError: (err) => this.logger.warn(`results consumer error: ${err.message}`),
      onDropped: (result, err) =>
        this.logger.error({ callId: result.callId, err: err.message }, 'result could not be applied'),
    });
    this.consumer.start();
    this.readiness.add('results', () => this.consumer.problem());
  }

  private async process(finished: CallResultJob): Promise<void> {
    const merged = await this.merge.apply(finished);
    const result = merged.rejected ? refusedResult(finished, merged.rejected, MAX_STATE_FIELDS) : finished;
    const event = buildEvent(result, merged);
    const publishedNow = await this.publisher.publish(result, event);
    // After the call's own event, and on a replay too: the turn may not have been completed then.
    if (result.turn) await this.turns.callEnded({ ...result, turn: result.turn });
    if (!publishedNow) return;
    eventsPublishedTotal.inc({ type: event.type });
    callsTotal.inc({ method: result.method, outcome: result.outcome, error_type: result.error?.type ?? 'none' });
    callLatencySeconds.observe((Date.now() - result.enqueuedAt) / 1000);
    this.logger.log(
      {
        callId: result.callId,
        botId: result.botId,
        webhook: result.webhook,
        outcome: result.outcome,
        status: result.lastAttempt.httpStatus,
        errorType: result.error?.type,
        attempts: result.attempts,
        durationMs: event.durationMs,
      },
      'call finished',
    );
  }

  async onModuleDestroy(): Promise<void> {
    if (!this.consumer) return;
    // Results left unfinished are claimed by another consumer: every step is idempotent.
    if (await this.consumer.drain(this.config.shutdownGraceMs)) return;
    this.logger.warn('results still running at the end of the grace period; the next consumer retries them');
    this.background.abandon();
  }
}
