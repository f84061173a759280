import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';
import { CallErrorType, WebhookCallJob } from '@hookrunner/contracts';
import { AttemptReport, UnbuildableRequestError, WebhookSender } from '@hookrunner/outbound';
import { callDurationSeconds, callsInFlight, responseBytes } from '@hookrunner/observability';
import { circuitStoreFor, type RedisClient, STATE_REDIS } from '@hookrunner/redis';
import type { OutgoingRequest } from '@hookrunner/webhook';
import { OriginGuard } from './origin-guard';

/**
 * An attempt that did not go out because its origin's bulkhead is full: try again after
 * `deferMs`, no attempt spent.
 */
export interface Deferral {
  deferMs: number;
}

/** Performs one attempt of a call: state for merge tags, the signed request, the HTTP exchange, its metrics. */
@Injectable()
export class CallRunnerService {
  private readonly guard: OriginGuard;

  constructor(
    private readonly sender: WebhookSender,
    @Inject(STATE_REDIS) redis: RedisClient,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const { circuit, maxInFlightPerOrigin } = config.isolation;
    this.guard = new OriginGuard(circuitStoreFor(redis, circuit), maxInFlightPerOrigin);
  }

  /** `onGoingOut` runs once the attempt is cleared to go out (not when it is deferred), before it is sent. */
  async attempt(call: WebhookCallJob, onGoingOut: () => void = () => undefined): Promise<AttemptReport | Deferral> {
    const ctx = await this.sender.mergeContext(call.request, call, call);
    let outgoing: OutgoingRequest;
    try {
      outgoing = await this.sender.prepare(call.botId, call.callId, call.request, ctx);
    } catch (err) {
      if (!(err instanceof UnbuildableRequestError)) throw err;
      // A merge tag rendered into the host, say, or a header sealed with another SECRETS_KEY: no retry can fix it.
      return {
        outcome: {
          kind: 'fail',
          error: { type: CallErrorType.Internal, message: `request could not be built: ${(err as Error).message}` },
        },
        durationMs: 0,
      };
    }
    const clearance = await this.guard.clear(outgoing.url, call.request.timeoutMs);
    if (clearance.kind !== 'go') {
      // Turned away: first the slot's turn in the origin's pace (OriginGuard), so that a flood's
      // backlog is put back, or failed once its circuit opens, a few hundred a second.
      if (clearance.pauseMs > 0) await sleep(clearance.pauseMs);
      if (clearance.kind === 'defer') return { deferMs: Math.max(0, clearance.delayMs - clearance.pauseMs) };
    }
    onGoingOut();
    if (clearance.kind === 'refuse') return { outcome: { kind: 'retry', error: clearance.error }, durationMs: 0 };
    callsInFlight.inc();
    let report: AttemptReport | undefined;
    try {
      report = await this.sender.send(outgoing, call.request.timeoutMs);
      callDurationSeconds.observe(
        { method: call.request.method, outcome: report.outcome.kind },
        report.durationMs / 1000,
      );
      if (report.exchange) responseBytes.observe(report.exchange.bytes);
      return report;
    } finally {
      callsInFlight.dec();
      this.guard.finish(
        clearance,
        report?.durationMs ?? 0,
        report && report.outcome.kind !== 'success' ? report.outcome.error : undefined,
      );
    }
  }

  /**
   * Closes the keep-alive connections. Called by the processor once its calls have drained; when
   * they have not, it is not called: aborting them would spend an attempt, while leaving them to
   * die with the process hands them to another worker untouched.
   */
  async close(): Promise<void> {
    await this.sender.close();
  }
}
