import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Job } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';
import { CallResultJob, RESULT_RETRY, RESULTS_QUEUE } from '@hookrunner/contracts';
import { callLatencySeconds, callsTotal, eventsPublishedTotal, Readiness } from '@hookrunner/observability';
import {
  BACKGROUND_REDIS,
  BackgroundRedisLifecycle,
  MAX_STATE_FIELDS,
  PartitionedWorker,
  type RedisClient,
} from '@hookrunner/redis';
import { buildEvent, refusedResult } from './build-event';
import { EventPublisher } from './event-publisher';
import { StateMergeService } from './state-merge.service';
import { TurnAssembler } from './turn-assembler';

/** Consumes finished calls: merge state, publish the event, count and log the call once. */
@Injectable()
export class ResultProcessor implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('results');
  private worker: PartitionedWorker<CallResultJob>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly merge: StateMergeService,
    private readonly publisher: EventPublisher,
    private readonly turns: TurnAssembler,
    private readonly readiness: Readiness,
    @Inject(BACKGROUND_REDIS) private readonly connection: RedisClient,
    private readonly background: BackgroundRedisLifecycle,
  ) {}

  onModuleInit(): void {
    // One worker per partition of the results queue, as the calls queue has: on a cluster the
    // results of a partition stay on its master.
    this.worker = new PartitionedWorker<CallResultJob>(RESULTS_QUEUE, (job) => this.process(job), {
      connection: this.connection,
      partitions: this.config.isolation.partitions,
      concurrency: this.config.results.concurrency,
      stalledInterval: this.config.worker.stalledIntervalMs,
      // Each step is idempotent per call, so a result may be retried after any number of crashes.
      maxStalledCount: this.config.worker.maxStalledCount,
      settings: {
        backoffStrategy: (attemptsMade: number) =>
          Math.min(RESULT_RETRY.baseMs * 2 ** (attemptsMade - 1), RESULT_RETRY.capMs),
      },
    });
    this.worker.on('error', (err) => this.logger.warn(`results worker error: ${err.message}`));
    this.worker.on('failed', (job, err) =>
      this.logger.error({ callId: job?.data.callId, err: err.message }, 'result could not be applied'),
    );
    this.readiness.add('results', () => (this.worker.problem() ? 'results consumer is not running' : undefined));
  }

  private async process(job: Job<CallResultJob>): Promise<void> {
    const merged = await this.merge.apply(job.data);
    const result = merged.rejected ? refusedResult(job.data, merged.rejected, MAX_STATE_FIELDS) : job.data;
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
    if (!this.worker) return;
    // Results left unfinished are retried by the next consumer: every step is idempotent.
    if (await this.worker.drain(this.config.shutdownGraceMs)) return;
    this.logger.warn('results still running at the end of the grace period; the next consumer retries them');
    this.background.abandon();
  }
}
