import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { readState, REDIS, type RedisClient } from '@hookrunner/redis';
import { IdentifierPipe } from '../common/identifier.pipe';
import { ApiErrors, ApiIdentifiers, ApiOk } from '../openapi/api-responses.decorator';
import { ProfileDto, SessionMemoryDto } from './dto/state.responses';

/** The state webhooks read and write. A user or session with nothing stored reads as empty. */
@ApiTags('state')
@ApiIdentifiers('botId', 'userId')
@Controller('v1/bots/:botId/users/:userId')
export class StateController {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  @Get()
  @ApiOperation({ summary: 'A user’s profile' })
  @ApiOk(200, ProfileDto, 'The profile; empty when nothing is stored.')
  @ApiErrors(400)
  async profile(
    @Param('botId', IdentifierPipe) botId: string,
    @Param('userId', IdentifierPipe) userId: string,
  ): Promise<ProfileDto> {
    const { user } = await readState(this.redis, { botId, userId, sessionId: '' }, { memory: false, user: true });
    return { attributes: user };
  }

  @Get('sessions/:sessionId')
  @ApiIdentifiers('sessionId')
  @ApiOperation({ summary: 'A session’s memory' })
  @ApiOk(200, SessionMemoryDto, 'The memory; empty when nothing is stored.')
  @ApiErrors(400)
  async session(
    @Param('botId', IdentifierPipe) botId: string,
    @Param('userId', IdentifierPipe) userId: string,
    @Param('sessionId', IdentifierPipe) sessionId: string,
  ): Promise<SessionMemoryDto> {
    const { memory } = await readState(this.redis, { botId, userId, sessionId }, { memory: true, user: false });
    return { memory };
  }
}
