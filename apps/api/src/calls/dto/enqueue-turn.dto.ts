import { ApiProperty, ApiSchema } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, ValidateNested } from 'class-validator';
import { IsIdentifier } from '../../common/validators';
import { TurnCompletedEventDto } from '../../events/dto/call-event.dto';
import { CallInputDto, IsParamsOverlay } from './call-input.dto';
import { IsIdempotencyKey, IsWaitMs, IsWebhookName } from './enqueue-call.dto';

/** Most calls in one turn. */
export const MAX_TURN_CALLS = 10;

/** One call of a turn: a webhook, and params over its definition's. */
@ApiSchema({ name: 'TurnCall' })
export class TurnCallDto {
  @IsWebhookName('weather')
  webhook: string;

  @IsParamsOverlay()
  params?: Record<string, string>;
}

/**
 * Body of POST /v1/bots/{botId}/turns: calls run in parallel for one user, whose results come
 * together in one `turn.completed` event. Session and overlays are the turn's, shared by its calls.
 */
@ApiSchema({ name: 'EnqueueTurn' })
export class EnqueueTurnDto extends CallInputDto {
  @IsIdentifier({ description: 'The user the turn is for.', example: 'alice' })
  userId: string;

  @ApiProperty({ type: [TurnCallDto], minItems: 1, maxItems: MAX_TURN_CALLS })
  @IsArray()
  @ArrayMinSize(1, { message: 'calls must hold at least 1 call' })
  @ArrayMaxSize(MAX_TURN_CALLS, { message: `calls must hold at most ${MAX_TURN_CALLS} calls` })
  @ValidateNested({ each: true })
  @Type(() => TurnCallDto)
  calls: TurnCallDto[];

  @IsIdempotencyKey('The same key for the same bot within 24 h answers the first turn’s ids and enqueues nothing.')
  idempotencyKey?: string;

  @IsWaitMs('Wait up to this long for the turn to complete: 200 with its event if it does, 202 otherwise. Default 0.')
  waitMs?: number;
}

/** 202 of POST /v1/bots/{botId}/turns: every call of the turn is in Redis. */
@ApiSchema({ name: 'TurnAccepted' })
export class TurnAcceptedDto {
  @ApiProperty({ format: 'uuid' })
  turnId: string;

  @ApiProperty({ type: [String], description: 'The calls’ ids, in declared order.' })
  callIds: string[];

  @ApiProperty({ enum: ['queued'] })
  status: 'queued';
}

/** 200 of POST /v1/bots/{botId}/turns with `waitMs`: every call of the turn ended in time. */
@ApiSchema({ name: 'TurnFinished' })
export class TurnFinishedDto {
  @ApiProperty({ format: 'uuid' })
  turnId: string;

  @ApiProperty({ enum: ['completed'] })
  status: 'completed';

  @ApiProperty({ type: TurnCompletedEventDto, description: 'Exactly the event published for the turn.' })
  event: TurnCompletedEventDto;
}
