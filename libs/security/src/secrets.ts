import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
/** 96-bit IVs are GCM's native size; a random one per seal is safe far beyond this service's volume. */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';

/**
 * Reads `SECRETS_KEY`: 32 bytes written as 64 hex characters or as base64.
 * @throws Error saying what was expected, without echoing the value.
 */
export function parseSecretsKey(value: string): Buffer {
  const text = value.trim();
  if (/^[0-9a-f]{64}$/i.test(text)) return Buffer.from(text, 'hex');
  // Node's base64 decoder reads the URL-safe alphabet too.
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
    const key = Buffer.from(text, 'base64');
    if (key.length === KEY_BYTES) return key;
  }
  throw new Error(`SECRETS_KEY must be ${KEY_BYTES} bytes written as 64 hex characters or as base64`);
}

/** A new random key, base64, for `SECRETS_KEY`. */
export function generateSecretsKey(): string {
  return randomBytes(KEY_BYTES).toString('base64');
}

/** Encrypts with AES-256-GCM under a fresh random IV: `v1.<iv>.<tag>.<ciphertext>`, each base64. */
export function seal(key: Buffer, plaintext: string): string {
  assertKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv(ALGORITHM, key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [VERSION, ...[iv, cipher.getAuthTag(), ciphertext].map((part) => part.toString('base64'))].join('.');
}

/**
 * Decrypts what {@link seal} produced.
 * @throws Error when the value is malformed, was sealed under another key, or was altered.
 */
export function open(key: Buffer, sealed: string): string {
  assertKey(key);
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) throw new Error('sealed value is not in the v1 format');
  const [iv, tag, ciphertext] = parts.slice(1).map((part) => Buffer.from(part, 'base64'));
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error('sealed value is not in the v1 format');
  const decipher = createDecipheriv(ALGORITHM, key, iv, { authTagLength: TAG_BYTES });
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new Error('sealed value failed authentication: wrong SECRETS_KEY or altered data');
  }
}

function assertKey(key: Buffer): void {
  if (key.length !== KEY_BYTES) throw new Error(`secrets key must be ${KEY_BYTES} bytes`);
}
