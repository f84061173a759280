import type { WebhookCallJob } from '@hookrunner/contracts';
import { open, signatureHeaders } from '@hookrunner/security';
import { buildRequest, MergeContext, OutgoingRequest } from '@hookrunner/webhook';
import { USER_AGENT } from './user-agent';

/**
 * The request as it goes out: sealed header values opened, merge tags rendered, and signed per
 * Standard Webhooks with the bot's secrets (newest first) when it has any. The signature covers
 * this attempt's timestamp, so a retry is signed afresh.
 */
export function prepareRequest(
  request: WebhookCallJob['request'],
  ctx: MergeContext,
  opts: { callId: string; secretsKey: Buffer; signingSecrets: string[]; now?: number },
): OutgoingRequest {
  const headers = Object.fromEntries(
    Object.entries(request.headers).map(([name, sealed]) => [name, open(opts.secretsKey, sealed)]),
  );
  const outgoing = buildRequest({ ...request, headers }, ctx, { callId: opts.callId, userAgent: USER_AGENT });
  if (opts.signingSecrets.length > 0) {
    const timestamp = Math.floor((opts.now ?? Date.now()) / 1000);
    Object.assign(outgoing.headers, signatureHeaders(opts.signingSecrets, opts.callId, timestamp, outgoing.body ?? ''));
  }
  return outgoing;
}
