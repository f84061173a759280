import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { APP_CONFIG, AppConfig } from '@hookrunner/config';
import { ApiKey, authorize, mayAccessBot } from '@hookrunner/security';

/** The key that authenticated a request, for routes that learn the bot only later. */
export type AuthenticatedRequest = FastifyRequest & { apiKey?: ApiKey };

/**
 * Every /v1 route needs `Authorization: Bearer <key>` (401 without a valid one); a key restricted
 * to some bots gets 403 for any other bot named in the path. Keys are compared in constant time.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    // The matched route's template, never the raw URL: `/%761/...` routes to /v1 too.
    const route = request.routeOptions.url ?? '';
    if (this.config.auth.disabled || !route.startsWith('/v1/')) return true;
    const botId = (request.params as Record<string, string> | undefined)?.botId;
    const verdict = authorize(this.config.auth.keys, request.headers.authorization, botId);
    switch (verdict.kind) {
      case 'unauthenticated':
        throw new UnauthorizedException('Authorization: Bearer <API key> is required');
      case 'forbidden':
        throw new ForbiddenException(`this API key may not act for bot ${botId}`);
      case 'ok':
        request.apiKey = verdict.key;
        return true;
    }
  }
}

/** For routes that find the bot in stored data: 403 unless the request's key may act for it. */
export function assertMayAccess(request: AuthenticatedRequest, botId: string): void {
  if (request.apiKey && !mayAccessBot(request.apiKey, botId))
    throw new ForbiddenException(`this API key may not act for bot ${botId}`);
}
