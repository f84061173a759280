import { Controller, Get, Req } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiErrors } from '../openapi/api-responses.decorator';
import type { AuthenticatedRequest } from './api-key.guard';

/** What GET /v1/key answers: the bots the presented key may act for. */
export type KeyScope = { allBots: true } | { allBots: false; botIds: string[] };

/** Lets a client (the admin page's sign-in) check a key and learn which bots it may see. */
@ApiTags('keys')
@Controller('v1/key')
export class KeyController {
  @Get()
  @ApiOperation({ summary: 'The bots the presented API key may act for' })
  @ApiResponse({
    status: 200,
    description: '`{ allBots: true }`, or `{ allBots: false, botIds }` for a key restricted to some bots.',
    schema: {
      oneOf: [
        { type: 'object', required: ['allBots'], properties: { allBots: { type: 'boolean', enum: [true] } } },
        {
          type: 'object',
          required: ['allBots', 'botIds'],
          properties: {
            allBots: { type: 'boolean', enum: [false] },
            botIds: { type: 'array', items: { type: 'string' } },
          },
        },
      ],
    },
  })
  @ApiErrors()
  scope(@Req() request: AuthenticatedRequest): KeyScope {
    // No key on the request: authentication is disabled, and every bot is open.
    const botIds = request.apiKey?.botIds;
    return botIds ? { allBots: false, botIds: [...botIds].sort() } : { allBots: true };
  }
}
