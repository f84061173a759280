import { createHmac, randomBytes } from 'node:crypto';

/** Prefix of a Standard Webhooks signing secret; the rest is the base64 key. */
export const SIGNING_SECRET_PREFIX = 'whsec_';

/** The headers a Standard Webhooks receiver verifies. */
export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/** A new per-bot signing secret: `whsec_` and 32 random bytes in base64. Shown to its owner once. */
export function generateSigningSecret(): string {
  return SIGNING_SECRET_PREFIX + randomBytes(32).toString('base64');
}

/**
 * Signs one outgoing call per Standard Webhooks: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
 * with each secret, space-separated, so a receiver holding either the old or the new secret
 * verifies during a rotation.
 * @param secrets `whsec_…` secrets, newest first; at least one.
 * @param id stable across retries of the same call (the callId), so receivers can deduplicate.
 * @param timestampSeconds Unix seconds of this attempt; receivers reject stale ones (5 minutes by default).
 * @param body the exact bytes sent, as a string; `''` for GET.
 */
export function signatureHeaders(
  secrets: readonly string[],
  id: string,
  timestampSeconds: number,
  body: string,
): SignatureHeaders {
  if (secrets.length === 0) throw new Error('signatureHeaders needs at least one secret');
  if (!Number.isSafeInteger(timestampSeconds)) throw new Error('webhook timestamp must be whole Unix seconds');
  const content = `${id}.${timestampSeconds}.${body}`;
  const signatures = secrets.map(
    (secret) => `v1,${createHmac('sha256', secretKey(secret)).update(content).digest('base64')}`,
  );
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': signatures.join(' '),
  };
}

function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SIGNING_SECRET_PREFIX) ? secret.slice(SIGNING_SECRET_PREFIX.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  // Buffer.from skips characters outside base64 silently; a secret that does not survive the round trip is damaged.
  if (key.length === 0 || key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) {
    throw new Error('signing secret is not whsec_ followed by base64');
  }
  return key;
}
