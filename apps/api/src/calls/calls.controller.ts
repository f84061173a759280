import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiExtraModels, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { FastifyReply } from 'fastify';
import type { CallView } from '@hookrunner/contracts';
import { isPlainObject } from '@hookrunner/webhook';
import { IdentifierPipe } from '../common/identifier.pipe';
import { assertMayAccess, AuthenticatedRequest } from '../auth/api-key.guard';
import { DomainError } from '../errors/domain-error';
import { httpStatusOf } from '../errors/domain-error.filter';
import { ApiErrors, ApiIdentifiers, ApiOk } from '../openapi/api-responses.decorator';
import { CallStatusService } from './call-status.service';
import { CallWaiterService } from './call-waiter.service';
import { EnqueueBatchDto, EnqueueCallDto, ListCallsQueryDto, WaitedEnqueueCallDto } from './dto/enqueue-call.dto';
import {
  BatchAcceptedDto,
  BatchRefusedDto,
  BatchResultDto,
  CallAcceptedDto,
  CallFinishedDto,
  CallRetriedDto,
  CallViewDto,
  FailedPageDto,
} from './dto/call.responses';
import { DeadLettersService, FailedPage } from './dead-letters.service';
import { EnqueueService } from './enqueue.service';

const REPLAYED_HEADER = {
  'idempotent-replayed': {
    description: '`true` when the idempotency key matched an earlier call.',
    schema: { type: 'string' },
  },
};

@ApiTags('calls')
@Controller('v1')
export class CallsController {
  constructor(
    private readonly enqueue: EnqueueService,
    private readonly status: CallStatusService,
    private readonly deadLetters: DeadLettersService,
    private readonly waiter: CallWaiterService,
  ) {}

  /**
   * 202 only once Redis holds the job. A replayed idempotency key answers as the first call did.
   * With `waitMs`, 200 and the call's event if it ends within that time.
   */
  @Post('bots/:botId/calls')
  @ApiIdentifiers('botId')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Enqueue a call',
    description: 'Answered once Redis holds the job; with waitMs, once it ends or waitMs passes.',
  })
  @ApiResponse({
    status: 202,
    type: CallAcceptedDto,
    description: 'Queued; its event comes later.',
    headers: REPLAYED_HEADER,
  })
  @ApiResponse({
    status: 200,
    type: CallFinishedDto,
    description: 'With waitMs: the call ended in time.',
    headers: REPLAYED_HEADER,
  })
  @ApiErrors(400, 404, 429)
  async create(
    @Param('botId', IdentifierPipe) botId: string,
    @Body() body: WaitedEnqueueCallDto,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const { waitMs = 0, ...call } = body;
    // Subscribed before the enqueue, so the call cannot end unseen in between.
    const deadline = Date.now() + waitMs;
    const watch = waitMs > 0 ? await this.waiter.watch(botId, waitMs) : undefined;
    try {
      const accepted = await this.enqueue.enqueue(botId, call);
      if (accepted.replayed) reply.header('idempotent-replayed', 'true');
      const finished = await watch?.until(
        { callId: accepted.callId },
        Math.max(0, deadline - Date.now()),
        accepted.replayed,
      );
      if (!finished) {
        await reply.status(202).send({ callId: accepted.callId, status: 'queued' } satisfies CallAcceptedDto);
        return;
      }
      const status = finished.event.type === 'call.succeeded' ? 'succeeded' : 'failed';
      // The event goes out byte for byte as it was published.
      const text = `{"callId":${JSON.stringify(accepted.callId)},"status":"${status}","event":${finished.raw}}`;
      await reply.status(200).type('application/json; charset=utf-8').send(text);
    } finally {
      watch?.close();
    }
  }

  /** Up to 1000 calls in one request; each entry answers for itself, in order. */
  @Post('bots/:botId/calls/batch')
  @ApiIdentifiers('botId')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Enqueue up to 1000 calls',
    description: 'Each entry is validated on its own and answers for itself, in order.',
  })
  @ApiExtraModels(BatchAcceptedDto, BatchRefusedDto)
  @ApiOk(202, BatchResultDto, 'One entry per call: its callId, or the error it alone would have been answered.')
  @ApiErrors(400, 429)
  async createBatch(
    @Param('botId', IdentifierPipe) botId: string,
    @Body() body: EnqueueBatchDto,
  ): Promise<BatchResultDto> {
    const entries = new Array<BatchResultDto['calls'][number]>(body.calls.length);
    const valid: { index: number; call: EnqueueCallDto }[] = [];
    for (const [index, raw] of body.calls.entries()) {
      const problem = validateEntry(raw);
      if (typeof problem === 'string') entries[index] = { error: { status: 400, message: problem } };
      else valid.push({ index, call: problem });
      // Validating 1,000 entries takes a while: other requests get their turn every 100.
      if (index % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
    }
    const results =
      valid.length > 0
        ? await this.enqueue.enqueueMany(
            botId,
            valid.map((v) => v.call),
          )
        : [];
    results.forEach((result, i) => {
      entries[valid[i].index] =
        result instanceof DomainError
          ? { error: { status: httpStatusOf(result.code), message: result.message } }
          : { callId: result.callId };
    });
    return { calls: entries };
  }

  @Get('calls/:callId')
  @ApiIdentifiers('callId')
  @ApiOperation({ summary: 'Where a call stands' })
  @ApiOk(200, CallViewDto, 'The call, with every attempt so far.')
  @ApiErrors(400, 404)
  async get(@Param('callId', IdentifierPipe) callId: string, @Req() request: AuthenticatedRequest): Promise<CallView> {
    const call = await this.status.get(callId);
    assertMayAccess(request, call.botId);
    return call;
  }

  /** The bot's failed calls, newest first, kept for FAILED_RETENTION_HOURS. */
  @Get('bots/:botId/calls')
  @ApiIdentifiers('botId')
  @ApiOperation({
    summary: 'The bot’s dead letters',
    description: 'Failed calls, newest first, kept for FAILED_RETENTION_HOURS.',
  })
  @ApiOk(200, FailedPageDto, 'A page of failed calls.')
  @ApiErrors(400)
  list(@Param('botId', IdentifierPipe) botId: string, @Query() query: ListCallsQueryDto): Promise<FailedPage> {
    return this.deadLetters.list(botId, query.limit ?? 50, query.cursor);
  }

  /** Runs a failed call again with a fresh attempt budget; it ends in a new terminal event. */
  @Post('calls/:callId/retry')
  @ApiIdentifiers('callId')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Replay a failed call',
    description: 'A fresh attempt budget; it ends in a new terminal event.',
  })
  @ApiOk(202, CallRetriedDto, 'Queued again.')
  @ApiErrors(400, 404, 409, 410)
  retry(
    @Param('callId', IdentifierPipe) callId: string,
    @Req() request: AuthenticatedRequest,
  ): Promise<CallRetriedDto> {
    return this.deadLetters.retry(callId, (botId) => assertMayAccess(request, botId));
  }
}

/** The entry as a DTO, or every rule it breaks as one message. */
function validateEntry(raw: unknown): EnqueueCallDto | string {
  if (!isPlainObject(raw)) return 'each call must be an object';
  const dto = plainToInstance(EnqueueCallDto, raw);
  const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length === 0) return dto;
  return errors.flatMap((e) => Object.values(e.constraints ?? {})).join('; ');
}
