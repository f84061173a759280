import { keys, type RedisClient } from '@hookrunner/redis';
import { open } from '@hookrunner/security';

/** How long a process reuses a bot's secrets before reading them again: a rotation reaches every worker within this. */
const CACHE_MS = 5_000;
/** Bots whose secrets are cached at once; the cache starts over past it. */
const CACHE_LIMIT = 10_000;

/**
 * A bot's signing secrets as the signer needs them: newest first, the rotated-out one only while
 * its grace period lasts, opened from their sealed form. Read through a short cache, so signing
 * costs no Redis round trip on most calls.
 */
export class SigningSecrets {
  private readonly cache = new Map<string, { secrets: string[]; until: number }>();

  constructor(
    private readonly redis: RedisClient,
    private readonly secretsKey: Buffer,
  ) {}

  async forBot(botId: string, now = Date.now()): Promise<string[]> {
    const cached = this.cache.get(botId);
    if (cached && cached.until > now) return cached.secrets;
    const [current, previous, previousExpiresAt] = await this.redis.hmget(
      keys.signingSecrets(botId),
      'current',
      'previous',
      'previousExpiresAt',
    );
    const secrets: string[] = [];
    if (current) secrets.push(open(this.secretsKey, current));
    if (previous && Number(previousExpiresAt) > now) secrets.push(open(this.secretsKey, previous));
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(botId, { secrets, until: now + CACHE_MS });
    return secrets;
  }
}
