import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { APP_CONFIG, AppConfig, requireSecretsKey } from '@hookrunner/config';
import { CallErrorType, WebhookCallJob } from '@hookrunner/contracts';
import { AttemptReport, HttpCaller, performAttempt, prepareRequest, SigningSecrets } from '@hookrunner/outbound';
import { callDurationSeconds, callsInFlight, responseBytes } from '@hookrunner/observability';
import { STATE_REDIS, readState } from '@hookrunner/redis';
import { OutgoingRequest, usesMergeTags } from '@hookrunner/webhook';

/** Performs one attempt of a call: state for merge tags, the signed request, the HTTP exchange, its metrics. */
@Injectable()
export class CallRunnerService {
  private readonly caller: HttpCaller;
  private readonly secretsKey: Buffer;
  private readonly signing: SigningSecrets;

  constructor(
    @Inject(STATE_REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.caller = new HttpCaller({ allow: config.outbound.allow });
    this.secretsKey = requireSecretsKey(config);
    this.signing = new SigningSecrets(redis, this.secretsKey);
  }

  async attempt(call: WebhookCallJob): Promise<AttemptReport> {
    // Stored state is read only when a merge tag needs it: most webhooks have none.
    const [stored, signingSecrets] = await Promise.all([readState(this.redis, call, usesMergeTags(call.request)), this.signing.forBot(call.botId)]);
    let outgoing: OutgoingRequest;
    try {
      outgoing = prepareRequest(
        call.request,
        { memory: { ...stored.memory, ...call.memory }, user: { ...stored.user, ...call.user } },
        { callId: call.callId, secretsKey: this.secretsKey, signingSecrets },
      );
    } catch (err) {
      // A merge tag rendered into the host, say, or a header sealed with another SECRETS_KEY: no retry can fix it.
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

  /**
   * Closes the keep-alive connections. Called by the processor once its calls have drained; when
   * they have not, it is not called: aborting them would spend an attempt, while leaving them to
   * die with the process hands them to another worker untouched.
   */
  async close(): Promise<void> {
    await this.caller.destroy();
  }
}
