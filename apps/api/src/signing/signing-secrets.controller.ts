import { Controller, Inject, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { APP_CONFIG, AppConfig, SECRETS_KEY } from '@hookrunner/config';
import { keys, REDIS, type RedisClient } from '@hookrunner/redis';
import { generateSigningSecret, seal } from '@hookrunner/security';
import { IdentifierPipe } from '../common/identifier.pipe';
import { ApiErrors, ApiIdentifiers, ApiOk } from '../openapi/api-responses.decorator';
import { SigningSecretCreatedDto } from '../state/dto/state.responses';

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
  constructor(
    @Inject(REDIS) private readonly redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SECRETS_KEY) private readonly secretsKey: Buffer,
  ) {}

  /** Creates the bot's first secret or rotates it; the previous one signs on through its grace period. */
  @Post()
  @ApiOperation({ summary: 'Create or rotate the bot’s signing secret', description: 'The secret is shown this once.' })
  @ApiOk(201, SigningSecretCreatedDto, 'The new secret.')
  @ApiErrors(400)
  async rotate(@Param('botId', IdentifierPipe) botId: string): Promise<SigningSecretCreated> {
    const secret = generateSigningSecret();
    const now = Date.now();
    const previousExpiresAt = now + this.config.signing.rotationGraceSeconds * 1000;
    const rotated = await this.redis.hookrunnerRotateSigningSecret(
      keys.signingSecrets(botId),
      seal(this.secretsKey, secret),
      new Date(now).toISOString(),
      previousExpiresAt,
    );
    return {
      secret,
      createdAt: new Date(now).toISOString(),
      ...(rotated === 1 ? { previousExpiresAt: new Date(previousExpiresAt).toISOString() } : {}),
    };
  }
}
