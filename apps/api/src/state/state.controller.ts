import { Controller, Get, Inject, Param } from '@nestjs/common';
import { readState, REDIS, type RedisClient } from '@hookrunner/redis';
import { IdentifierPipe } from '../common/identifier.pipe';

/** The state webhooks read and write. A user or session with nothing stored reads as empty. */
@Controller('v1/bots/:botId/users/:userId')
export class StateController {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  @Get()
  async profile(@Param('botId', IdentifierPipe) botId: string, @Param('userId', IdentifierPipe) userId: string) {
    const { user } = await readState(this.redis, { botId, userId, sessionId: '' }, { memory: false, user: true });
    return { attributes: user };
  }

  @Get('sessions/:sessionId')
  async session(
    @Param('botId', IdentifierPipe) botId: string,
    @Param('userId', IdentifierPipe) userId: string,
    @Param('sessionId', IdentifierPipe) sessionId: string,
  ) {
    const { memory } = await readState(this.redis, { botId, userId, sessionId }, { memory: true, user: false });
    return { memory };
  }
}
