import type { FactoryProvider, InjectionToken } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, SECRETS_KEY } from '@hookrunner/config';
import type { RedisClient } from '@hookrunner/redis';
import { WebhookSender } from './webhook-sender';

/**
 * The module's WebhookSender, set up from the process's config (OUTBOUND_ALLOW_CIDRS, SECRETS_KEY)
 * on the Redis connection `redis` names: the worker's STATE_REDIS, the API's REDIS. Whoever injects
 * it closes it, when its own calls are done.
 */
export function webhookSenderProvider(redis: InjectionToken): FactoryProvider<WebhookSender> {
  return {
    provide: WebhookSender,
    inject: [redis, APP_CONFIG, SECRETS_KEY],
    useFactory: (client: RedisClient, config: AppConfig, secretsKey: Buffer) =>
      new WebhookSender(client, { allow: config.outbound.allow, secretsKey }),
  };
}
