import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { BotStats, keys, REDIS, type RedisClient, replies, STATS_WINDOW_MINUTES, summarize } from '@hookrunner/redis';
import { IdentifierPipe } from '../common/identifier.pipe';
import { ApiErrors, ApiIdentifiers, ApiOk } from '../openapi/api-responses.decorator';
import { BotStatsDto } from './dto/state.responses';

/** Per-bot figures over the last hour: what metrics cannot carry without a botId label. */
@ApiTags('state')
@ApiIdentifiers('botId')
@Controller('v1/bots/:botId/stats')
export class StatsController {
  constructor(@Inject(REDIS) private readonly redis: RedisClient) {}

  @Get()
  @ApiOperation({ summary: 'The bot’s calls over the last hour' })
  @ApiOk(200, BotStatsDto, 'Counts and latency quantiles.')
  @ApiErrors(400)
  async get(@Param('botId', IdentifierPipe) botId: string): Promise<BotStats> {
    const minute = Math.floor(Date.now() / 60_000);
    const pipeline = this.redis.pipeline();
    for (let m = minute - STATS_WINDOW_MINUTES + 1; m <= minute; m++) pipeline.hgetall(keys.botStats(botId, m));
    return summarize(replies(await pipeline.exec()) as Record<string, string>[]);
  }
}
