import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import type Redis from 'ioredis';
import { CallErrorType, WebhookCallJob } from '@hookrunner/contracts';
import { HttpCaller, performAttempt, AttemptReport, USER_AGENT } from '@hookrunner/outbound';
import { callDurationSeconds, callsInFlight, responseBytes } from '@hookrunner/observability';
import { readState, BACKGROUND_REDIS } from '@hookrunner/redis';
import { buildRequest, usesMergeTags } from '@hookrunner/webhook';

/** Performs one attempt of a call: state for merge tags, the request, the HTTP exchange, its metrics. */
@Injectable()
export class CallRunnerService implements OnApplicationShutdown {
  private readonly caller = new HttpCaller();

  constructor(@Inject(BACKGROUND_REDIS) private readonly redis: Redis) {}

  async attempt(call: WebhookCallJob): Promise<AttemptReport> {
    // Stored state is read only when a merge tag needs it: most webhooks have none.
    const stored = await readState(this.redis, call, usesMergeTags(call.request));
    let outgoing;
    try {
      outgoing = buildRequest(
        call.request,
        { memory: { ...stored.memory, ...call.memory }, user: { ...stored.user, ...call.user } },
        { callId: call.callId, userAgent: USER_AGENT },
      );
    } catch (err) {
      // A merge tag rendered into the host, say: no retry can fix the URL.
      return { outcome: { kind: 'fail', error: { type: CallErrorType.Network, message: `request could not be built: ${(err as Error).message}` } }, durationMs: 0 };
    }
    callsInFlight.inc();
    try {
      const report = await performAttempt(this.caller, outgoing, call.request.timeoutMs);
      callDurationSeconds.observe({ method: call.request.method, outcome: report.outcome.kind }, report.durationMs / 1000);
      if (report.exchange) responseBytes.observe(report.exchange.bytes);
      return report;
    } finally {
      callsInFlight.dec();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.caller.close();
  }
}
