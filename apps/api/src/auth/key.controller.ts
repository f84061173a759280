import { Controller, Get, Req } from '@nestjs/common';
import type { AuthenticatedRequest } from './api-key.guard';

/** What GET /v1/key answers: the bots the presented key may act for. */
export type KeyScope = { allBots: true } | { allBots: false; botIds: string[] };

/** Lets a client (the admin page's sign-in) check a key and learn which bots it may see. */
@Controller('v1/key')
export class KeyController {
  @Get()
  scope(@Req() request: AuthenticatedRequest): KeyScope {
    // No key on the request: authentication is disabled, and every bot is open.
    const botIds = request.apiKey?.botIds;
    return botIds ? { allBots: false, botIds: [...botIds].sort() } : { allBots: true };
  }
}
