import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Matches,
  Max,
  Min,
} from 'class-validator';
import { IsIdentifier } from '../../common/validators';
import { CallInputDto } from './call-input.dto';

/** Body of POST /v1/bots/{botId}/calls, and one entry of a batch. */
@ApiSchema({ name: 'EnqueueCall' })
export class EnqueueCallDto extends CallInputDto {
  @IsWebhookName('random_number')
  webhook: string;

  @IsIdentifier({ description: 'The user the call is for.', example: 'alice' })
  userId: string;

  /** The same key for the same bot within 24 h returns the first call's callId and enqueues nothing. */
  @IsIdempotencyKey('The same key for the same bot within 24 h answers the first call’s callId and enqueues nothing.')
  idempotencyKey?: string;
}

/** Longest a request may wait for its call's result. */
export const MAX_WAIT_MS = 30_000;

/** Body of POST /v1/bots/{botId}/calls: a call, and how long to wait for its result. */
@ApiSchema({ name: 'WaitedEnqueueCall' })
export class WaitedEnqueueCallDto extends EnqueueCallDto {
  /** 0 (the default) answers at once. */
  @IsWaitMs('Wait up to this long for the call to end: 200 with its event if it does, 202 otherwise. Default 0.')
  waitMs?: number;
}

/** The webhook a call runs: the name of one of the bot's definitions (1–128 characters). */
export function IsWebhookName(example: string) {
  return applyDecorators(
    ApiProperty({ description: 'The name of one of the bot’s webhooks.', example, minLength: 1, maxLength: 128 }),
    IsString(),
    Length(1, 128),
  );
}

/** An optional idempotency key: 1–255 printable ASCII characters, no spaces. */
export function IsIdempotencyKey(description: string) {
  return applyDecorators(
    ApiPropertyOptional({
      description,
      example: 'msg-81723',
      minLength: 1,
      maxLength: 255,
      pattern: '^[\\x21-\\x7e]+$',
    }),
    IsOptional(),
    IsString(),
    Length(1, 255),
    Matches(/^[\x21-\x7e]+$/, { message: 'idempotencyKey must be printable ASCII without spaces' }),
  );
}

/** An optional waitMs: 0 to MAX_WAIT_MS. */
export function IsWaitMs(description: string) {
  return applyDecorators(
    ApiPropertyOptional({ description, minimum: 0, maximum: MAX_WAIT_MS, default: 0, example: 5000 }),
    IsOptional(),
    IsInt(),
    Min(0),
    Max(MAX_WAIT_MS),
  );
}

/** Most calls in one batch. */
export const MAX_BATCH = 1_000;

/** Body of POST /v1/bots/{botId}/calls/batch. Entries are validated one by one, so one bad entry fails alone. */
@ApiSchema({ name: 'EnqueueBatch' })
export class EnqueueBatchDto {
  @ApiProperty({ type: [EnqueueCallDto], minItems: 1, maxItems: MAX_BATCH })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_BATCH, { message: `calls must hold at most ${MAX_BATCH} entries` })
  @Type(() => Object)
  calls: unknown[];
}

/** Query of GET /v1/bots/{botId}/calls. Only failed calls are indexed (the dead letters). */
@ApiSchema({ name: 'ListCallsQuery' })
export class ListCallsQueryDto {
  @ApiProperty({ enum: ['failed'], description: 'Only failed calls are listed.' })
  @IsIn(['failed'], { message: 'status must be failed (only failed calls are listed)' })
  status: 'failed';

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 50 })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value,
  )
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'A `nextCursor` from the previous page.', minLength: 1, maxLength: 40 })
  @IsOptional()
  @IsString()
  @Length(1, 40)
  cursor?: string;
}
