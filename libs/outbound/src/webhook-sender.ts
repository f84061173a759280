import { readState, type RedisClient } from '@hookrunner/redis';
import type { CallTarget, StateOverlays, WebhookCallJob } from '@hookrunner/contracts';
import type { ParsedCidr } from '@hookrunner/security';
import { type MergeContext, type OutgoingRequest, usesMergeTags } from '@hookrunner/webhook';
import { AttemptReport, performAttempt } from './attempt';
import { HttpCaller } from './http-caller';
import { prepareRequest } from './prepare-request';
import { SigningSecrets } from './signing-secrets';

export class UnbuildableRequestError extends Error {
  override readonly name = 'UnbuildableRequestError';
}

export interface WebhookSenderOptions {
  /** OUTBOUND_ALLOW_CIDRS. */
  allow: readonly ParsedCidr[];
  /** SECRETS_KEY: opens sealed header values and signing secrets. */
  secretsKey: Buffer;
}

/**
 * Everything between a call's data and the endpoint, for the worker and the API's test button
 * alike: the request prepared (headers opened, merge tags rendered, signed with the bot's secrets)
 * and one attempt sent through the guarded keep-alive agent.
 */
export class WebhookSender {
  private readonly caller: HttpCaller;
  private readonly signing: SigningSecrets;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: WebhookSenderOptions,
  ) {
    this.caller = new HttpCaller({ allow: options.allow });
    this.signing = new SigningSecrets(redis, options.secretsKey);
  }

  /**
   * What merge tags are rendered with: the user's stored session memory and profile, overlaid by
   * what the call was given. Stored state is read only when a merge tag of `request` needs it
   * (most webhooks have none), and never without a `user` to read it for.
   */
  async mergeContext(
    request: WebhookCallJob['request'],
    given: Partial<StateOverlays>,
    user?: Pick<CallTarget, 'botId' | 'userId' | 'sessionId'>,
  ): Promise<MergeContext> {
    const stored = user ? await readState(this.redis, user, usesMergeTags(request)) : { memory: {}, user: {} };
    return { memory: { ...stored.memory, ...given.memory }, user: { ...stored.user, ...given.user } };
  }

  /**
   * Throws UnbuildableRequestError when no request can be built (a merge tag rendered into the
   * host, a header sealed with another key): no retry can fix that. Redis errors pass as they are.
   */
  async prepare(
    botId: string,
    callId: string,
    request: WebhookCallJob['request'],
    ctx: MergeContext,
  ): Promise<OutgoingRequest> {
    const signingSecrets = await this.signing.forBot(botId);
    try {
      return prepareRequest(request, ctx, { callId, secretsKey: this.options.secretsKey, signingSecrets });
    } catch (err) {
      throw new UnbuildableRequestError((err as Error).message);
    }
  }

  /** One attempt; never throws for anything the endpoint does. */
  send(outgoing: OutgoingRequest, timeoutMs: number): Promise<AttemptReport> {
    return performAttempt(this.caller, outgoing, timeoutMs);
  }

  /** Ends every connection now (at shutdown, once nothing is in flight). */
  close(): Promise<void> {
    return this.caller.destroy();
  }
}
