import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { DelayedError, Job, MinimalJob, UnrecoverableError } from 'bullmq';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';
import {
  AttemptRecord,
  CALLS_QUEUE,
  CallError,
  CallErrorType,
  CallResultJob,
  WebhookCallJob,
  WebhookReply,
} from '@hookrunner/contracts';
import { callAttemptsTotal, queueWaitSeconds, Readiness, retriesTotal } from '@hookrunner/observability';
import {
  BACKGROUND_REDIS,
  BackgroundRedisLifecycle,
  CallRepository,
  keys,
  PartitionedWorker,
  pendingCallMember,
  type RedisClient,
  ResultStream,
  STATE_REDIS,
} from '@hookrunner/redis';
import { partitionOf } from '@hookrunner/isolation';
import { nextRetryDelay } from '@hookrunner/webhook';
import { CallRunnerService } from './call-runner.service';
import { RetryableCallError } from './retryable-call-error';
import { attemptRecord, lostAttemptRecord } from './attempt-record';
import { isStalledTooOften } from './stalled';

/**
 * How long an attempt is out before its call's record says running. Most attempts end sooner and
 * their record goes from queued straight to the outcome (retrying, or ended by the results
 * consumer): a script call fewer per call. Only GET /v1/calls/{callId} shows the difference.
 */
const RUNNING_MARK_AFTER_MS = 50;

/** Thrown after the final result was handed to the results stream: nothing more to report. */
class ReportedFailure extends UnrecoverableError {}

/**
 * The calls-queue worker. It takes a job, lets CallRunnerService attempt it, and turns the outcome
 * into BullMQ's terms: return (succeeded), RetryableCallError (try again after a backoff) or
 * UnrecoverableError (failed for good). A final outcome is handed to the results stream first, so
 * every call ends in exactly one result whatever happens to this process afterwards.
 */
@Injectable()
export class CallProcessor implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('worker');
  private worker: PartitionedWorker<WebhookCallJob>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly runner: CallRunnerService,
    private readonly readiness: Readiness,
    @Inject(BACKGROUND_REDIS) private readonly connection: RedisClient,
    @Inject(STATE_REDIS) private readonly state: RedisClient,
    private readonly background: BackgroundRedisLifecycle,
    private readonly calls: CallRepository,
    private readonly results: ResultStream,
  ) {}

  onModuleInit(): void {
    const { worker: options } = this.config;
    this.worker = new PartitionedWorker<WebhookCallJob>(CALLS_QUEUE, (job, token) => this.process(job, token), {
      connection: this.connection,
      partitions: this.config.isolation.partitions,
      concurrency: options.concurrency,
      // A healthy call keeps its lock by renewal every lockDuration/2, however long it runs; a
      // killed worker's calls are taken over once the lock expires and the next stalled check runs,
      // so within lockDuration + stalledInterval (20 s by default): seconds, as a chat needs.
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      // BullMQ's default of 1 would fail a call whose worker died twice. Crashes are the workers'
      // fault, not the call's: allow many, and still end a call that kills every worker it meets.
      maxStalledCount: options.maxStalledCount,
      settings: {
        backoffStrategy: (attemptsMade: number, _type?: string, err?: Error, job?: MinimalJob) =>
          nextRetryDelay(attemptsMade, (job?.data as WebhookCallJob | undefined)?.retry.backoffMs ?? 1_000, {
            retryAfterMs: err instanceof RetryableCallError ? err.retryAfterMs : undefined,
            capMs: options.retryAfterCapMs,
          }),
      },
    });
    this.worker.on('failed', (job, err) => void this.onFailed(job, err));
    this.worker.on('error', (err) => this.logger.warn(`worker error: ${err.message}`));
    this.readiness.add('worker', () => this.worker.problem());
  }

  private async process(job: Job<WebhookCallJob>, token?: string): Promise<void> {
    const attempt = job.attemptsMade + 1;
    const startedAt = new Date();
    // The record says running once the attempt has been out RUNNING_MARK_AFTER_MS (a deferred one
    // never goes out). Not awaited: the write leaves with the next batch on the state connection.
    let mark: NodeJS.Timeout | undefined;
    let report: Awaited<ReturnType<CallRunnerService['attempt']>>;
    try {
      report = await this.runner.attempt(job.data, () => {
        // Queue wait ends when the first attempt goes out, however often the bulkhead deferred it
        // (each deferral starts the job again, so BullMQ's started count cannot tell).
        if (job.attemptsMade === 0) queueWaitSeconds.observe((Date.now() - job.data.enqueuedAt) / 1000);
        mark = setTimeout(() => this.markRunning(job.data, attempt), RUNNING_MARK_AFTER_MS);
      });
    } finally {
      clearTimeout(mark);
    }
    if ('deferMs' in report) {
      // Back to wait, its slot freed and no attempt spent (BullMQ's documented manual delay).
      await job.moveToDelayed(Date.now() + report.deferMs, token);
      throw new DelayedError();
    }
    const { outcome } = report;
    const logged = attemptRecord(job.data.run, attempt, startedAt, report);
    if (outcome.kind === 'success') {
      callAttemptsTotal.inc({ result: 'success' });
      await this.report(job, { reply: outcome.reply }, logged);
      return;
    }
    if (outcome.kind === 'retry' && attempt < (job.opts.attempts ?? 1)) {
      callAttemptsTotal.inc({ result: 'retry' });
      retriesTotal.inc({ reason: outcome.error.type });
      await this.calls.retrying(job.data, logged, this.config.retention.failedSeconds);
      throw new RetryableCallError(outcome.error, outcome.retryAfterMs);
    }
    callAttemptsTotal.inc({ result: 'fail' });
    await this.report(job, { error: outcome.error }, logged);
    throw new ReportedFailure(outcome.error.message);
  }

  private markRunning(call: WebhookCallJob, attempt: number): void {
    this.calls
      .attemptStarted(call, attempt, this.config.retention.failedSeconds)
      .catch((err: Error) => this.logger.warn(`could not mark call ${call.callId} running: ${err.message}`));
  }

  /** A job that failed for good without a result (it stalled too often, or a bug threw): report it. */
  private async onFailed(job: Job<WebhookCallJob> | undefined, err: Error): Promise<void> {
    if (!job || err instanceof ReportedFailure || err instanceof RetryableCallError) return;
    const stalled = isStalledTooOften(err);
    const final = err instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1) || stalled;
    if (!final) return;
    const error: CallError = {
      type: CallErrorType.Internal,
      message: stalled
        ? `the call was interrupted more than ${this.config.worker.maxStalledCount} times by worker crashes`
        : `internal error: ${err.message}`,
    };
    await this.report(job, { error }, lostAttemptRecord(job.data.run, job.attemptsMade + 1, error)).catch((e: Error) =>
      this.logger.error(`could not report failed call ${job.id}: ${e.message}`),
    );
  }

  private async report(
    job: Job<WebhookCallJob>,
    end: { reply?: WebhookReply; error?: CallError },
    lastAttempt: AttemptRecord,
  ): Promise<void> {
    const call = job.data;
    const result: CallResultJob = {
      callId: call.callId,
      botId: call.botId,
      userId: call.userId,
      sessionId: call.sessionId,
      webhook: call.webhook,
      method: call.request.method,
      outcome: end.reply ? 'succeeded' : 'failed',
      reply: end.reply,
      error: end.error,
      memory: call.memory,
      user: call.user,
      attempts: lastAttempt.attempt,
      enqueuedAt: call.enqueuedAt,
      lastAttempt,
      finishedAt: Date.now(),
      run: call.run,
      turn: call.turn,
    };
    // To the bot's partition, as its call came from it. The state connection queues commands
    // through a Redis restart: a blip delays the result instead of failing an attempt that already
    // reached the endpoint. A second report of the same run (after a crash) is applied once: the
    // results consumer's markers see to it.
    await this.results.add(partitionOf(call.botId, this.config.isolation.partitions), result);
    // No longer ranks the bot's next calls behind this one (idempotent: a second report removes
    // nothing). On the state connection, so it leaves in the same write as the result.
    this.state
      .zrem(keys.pendingCalls(call.botId), pendingCallMember(call.enqueuedAt, call.callId))
      .catch(() => undefined);
  }

  async onModuleDestroy(): Promise<void> {
    if (!this.worker) return;
    // Stop taking calls; let those in flight finish within the grace period. Past it, stop
    // waiting: once this process exits its locks lapse and other workers run those calls again.
    // (A second, forced close() would only wait on the first: BullMQ returns the same promise.)
    if (await this.worker.drain(this.config.shutdownGraceMs)) {
      await this.runner.close();
      return;
    }
    this.logger.warn(`calls still running after ${this.config.shutdownGraceMs} ms; leaving them to other workers`);
    this.background.abandon();
  }
}
