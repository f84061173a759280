import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';

/** Refuses to run the API open by accident, and says so loudly when it is open on purpose. */
@Injectable()
export class AuthAnnouncer implements OnModuleInit {
  private readonly logger = new Logger('auth');

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  onModuleInit(): void {
    const { auth, outbound } = this.config;
    if (auth.disabled) {
      this.logger.warn(
        'AUTH_DISABLED=true: every /v1 route is open to anyone who can reach this port. For tests only.',
      );
    } else if (auth.keys.length === 0) {
      throw new Error(
        'no API keys are configured: set API_KEYS or API_KEYS_FILE (or AUTH_DISABLED=true, for tests only)',
      );
    }
    const open = outbound.allow.map((c) => c.text).join(', ');
    this.logger.log(
      open
        ? `webhooks may reach these private ranges: ${open} (OUTBOUND_ALLOW_CIDRS)`
        : 'webhooks may reach public addresses only',
    );
  }
}
