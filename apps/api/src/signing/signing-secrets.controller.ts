import { Controller, Inject, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type Redis from 'ioredis';
import { APP_CONFIG, AppConfig, requireSecretsKey } from '@hookrunner/config';
import { keys, REDIS } from '@hookrunner/redis';
import { generateSigningSecret, seal } from '@hookrunner/security';
import { IdentifierPipe } from '../common/identifier.pipe';
import { ApiErrors, ApiIdentifiers, ApiOk } from '../openapi/api-responses.decorator';
import { SigningSecretCreatedDto } from '../state/dto/state.responses';

/** Moves the current secret to `previous` (signing on until its grace ends) and installs the new one, atomically. */
const ROTATE_LUA = `
local current = redis.call('HGET', KEYS[1], 'current')
if current then
  redis.call('HSET', KEYS[1], 'previous', current, 'previousExpiresAt', ARGV[3])
end
redis.call('HSET', KEYS[1], 'current', ARGV[1], 'createdAt', ARGV[2])
return current and 1 or 0
`;

export interface SigningSecretCreated {
  /** `whsec_...`: shown this once, never again. */
  secret: string;
  createdAt: string;
  /** When the secret this one replaced stops signing; absent on the first secret. */
  previousExpiresAt?: string;
}

/** Each bot's Standard Webhooks signing secret: created or rotated here, stored sealed. */
@ApiTags('signing')
@ApiIdentifiers('botId')
@Controller('v1/bots/:botId/signing-secret')
export class SigningSecretsController {
  private readonly secretsKey: Buffer;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.secretsKey = requireSecretsKey(config);
  }

  @Post()
  @ApiOperation({ summary: 'Create or rotate the bot’s signing secret', description: 'The secret is shown this once.' })
  @ApiOk(201, SigningSecretCreatedDto, 'The new secret.')
  @ApiErrors(400)
  async rotate(@Param('botId', IdentifierPipe) botId: string): Promise<SigningSecretCreated> {
    const secret = generateSigningSecret();
    const now = Date.now();
    const previousExpiresAt = now + this.config.signing.rotationGraceSeconds * 1000;
    const rotated = await this.redis.eval(ROTATE_LUA, 1, keys.signingSecrets(botId), seal(this.secretsKey, secret), new Date(now).toISOString(), previousExpiresAt);
    return {
      secret,
      createdAt: new Date(now).toISOString(),
      ...(rotated === 1 ? { previousExpiresAt: new Date(previousExpiresAt).toISOString() } : {}),
    };
  }
}
