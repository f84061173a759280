import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { IDENTIFIER_PATTERN } from '@hookrunner/contracts';

/** A configured API key. Only its digest is kept, so no key value can reach a log through it. */
export interface ApiKey {
  /** SHA-256 of the key. */
  readonly digest: Buffer;
  /** The bots this key may act for; undefined means every bot. */
  readonly botIds?: ReadonlySet<string>;
}

/** RFC 6750's b64token: every key must be sendable as a Bearer credential as-is. */
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * Parses `API_KEYS`: comma-separated `key` (every bot) or `key:bot1|bot2` (only those bots).
 * @throws Error naming the entry by position, never by value.
 */
export function parseApiKeys(spec: string, source = 'API_KEYS'): ApiKey[] {
  return spec
    .split(',')
    .map((entry) => entry.trim())
    .flatMap((entry, i) => (entry === '' ? [] : [parseEntry(entry, `${source} entry ${i + 1}`)]));
}

/** Parses a keys file: one entry per line in the `API_KEYS` syntax; `#` starts a comment. */
export function parseKeysFile(text: string, source = 'keys file'): ApiKey[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*/, '').trim())
    .flatMap((entry, i) => (entry === '' ? [] : [parseEntry(entry, `${source} line ${i + 1}`)]));
}

function parseEntry(entry: string, where: string): ApiKey {
  const colon = entry.indexOf(':');
  const key = (colon === -1 ? entry : entry.slice(0, colon)).trim();
  if (!TOKEN.test(key)) {
    throw new Error(`${where}: a key must be letters, digits and - . _ ~ + / (optionally ending in =)`);
  }
  if (colon === -1) return { digest: sha256(key) };
  const botIds = entry
    .slice(colon + 1)
    .split('|')
    .map((botId) => botId.trim());
  const bad = botIds.find((botId) => !IDENTIFIER_PATTERN.test(botId));
  if (bad !== undefined)
    throw new Error(`${where}: "${bad}" is not a valid botId (after ":" list botIds separated by |)`);
  return { digest: sha256(key), botIds: new Set(botIds) };
}

/**
 * The key an `Authorization: Bearer <key>` header carries, or undefined for a missing, malformed
 * or unknown credential. Compares SHA-256 digests in constant time against every configured key,
 * so neither the position of a mismatch nor the key's length shows in the timing.
 */
export function authenticate(
  keys: readonly ApiKey[],
  authorization: string | string[] | undefined,
): ApiKey | undefined {
  if (typeof authorization !== 'string') return undefined;
  const match = BEARER.exec(authorization);
  if (!match) return undefined;
  const digest = sha256(match[1]);
  // No early exit, so the time taken does not say which key matched.
  const found = keys.filter((key) => timingSafeEqual(digest, key.digest));
  if (found.length <= 1) return found[0];
  // The same key listed twice (say in API_KEYS and the keys file) may act for every bot either entry names.
  if (found.some((key) => !key.botIds)) return { digest };
  return { digest, botIds: new Set(found.flatMap((key) => [...(key.botIds ?? [])])) };
}

/** Whether `key` may act for `botId`. */
export function mayAccessBot(key: ApiKey, botId: string): boolean {
  return !key.botIds || key.botIds.has(botId);
}

/** The API key guard's verdict on a request: the key that may act, or why none may. */
export type KeyVerdict = { kind: 'ok'; key: ApiKey } | { kind: 'unauthenticated' } | { kind: 'forbidden' };

/**
 * The API key guard's decision: unauthenticated (401) without a valid key, forbidden (403) when
 * the path names a bot the key may not act for, else the key. `botId` is the path's, if any.
 */
export function authorize(
  keys: readonly ApiKey[],
  authorization: string | string[] | undefined,
  botId?: string,
): KeyVerdict {
  const key = authenticate(keys, authorization);
  if (!key) return { kind: 'unauthenticated' };
  if (botId !== undefined && !mayAccessBot(key, botId)) return { kind: 'forbidden' };
  return { kind: 'ok', key };
}

/** A new API key: `hr_` and 32 random bytes, base64url. */
export function generateApiKey(): string {
  return `hr_${randomBytes(32).toString('base64url')}`;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
