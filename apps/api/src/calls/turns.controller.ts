import { Body, Controller, HttpCode, Param, Post, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { IdentifierPipe } from '../common/identifier.pipe';
import { ApiErrors, ApiIdentifiers } from '../openapi/api-responses.decorator';
import { CallWaiterService } from './call-waiter.service';
import { EnqueueTurnDto, TurnAcceptedDto, TurnFinishedDto } from './dto/enqueue-turn.dto';
import { EnqueueService } from './enqueue.service';

@ApiTags('calls')
@Controller('v1')
export class TurnsController {
  constructor(
    private readonly enqueue: EnqueueService,
    private readonly waiter: CallWaiterService,
  ) {}

  /**
   * 202 once Redis holds every call of the turn. With `waitMs`, 200 and the turn's event if all
   * its calls end within that time. A replayed idempotency key answers as the first turn did.
   */
  @Post('bots/:botId/turns')
  @ApiIdentifiers('botId')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Run up to 10 calls in parallel as one turn',
    description:
      'Each call publishes its own event; when all have ended, one `turn.completed` event brings their ' +
      'responses together in declared order, with their state changes merged in that order.',
  })
  @ApiResponse({
    status: 202,
    type: TurnAcceptedDto,
    description: 'Queued; the events come later.',
    headers: {
      'idempotent-replayed': {
        description: '`true` when the idempotency key matched an earlier turn.',
        schema: { type: 'string' },
      },
    },
  })
  @ApiResponse({ status: 200, type: TurnFinishedDto, description: 'With waitMs: the turn completed in time.' })
  @ApiErrors(400, 404, 429)
  async create(
    @Param('botId', IdentifierPipe) botId: string,
    @Body() body: EnqueueTurnDto,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const waitMs = body.waitMs ?? 0;
    // Subscribed before the enqueue, so the turn cannot complete unseen in between.
    const deadline = Date.now() + waitMs;
    const watch = waitMs > 0 ? await this.waiter.watch(botId, waitMs) : undefined;
    try {
      const accepted = await this.enqueue.enqueueTurn(botId, body);
      if (accepted.replayed) reply.header('idempotent-replayed', 'true');
      const { turnId, callIds } = accepted;
      const finished = await watch?.until({ turnId }, Math.max(0, deadline - Date.now()), accepted.replayed);
      if (!finished) {
        await reply.status(202).send({ turnId, callIds, status: 'queued' } satisfies TurnAcceptedDto);
        return;
      }
      // The event goes out byte for byte as it was published.
      const text = `{"turnId":${JSON.stringify(turnId)},"status":"completed","event":${finished.raw}}`;
      await reply.status(200).type('application/json; charset=utf-8').send(text);
    } finally {
      watch?.close();
    }
  }
}
