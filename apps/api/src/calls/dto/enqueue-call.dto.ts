import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsOptional, IsString, Length, Matches, Max, Min } from 'class-validator';
import { IDENTIFIER_PATTERN } from '@hookrunner/contracts';
import { IsStateObject, IsStringRecord } from '../../common/validators';

const IDENTIFIER_RULE = 'must be 1-128 characters of letters, digits, -, _, ., :';

/** Body of POST /v1/bots/{botId}/calls, and one entry of a batch. */
export class EnqueueCallDto {
  @IsString() @Length(1, 128)
  webhook: string;

  @IsString() @Matches(IDENTIFIER_PATTERN, { message: `userId ${IDENTIFIER_RULE}` })
  userId: string;

  @IsOptional() @IsString() @Matches(IDENTIFIER_PATTERN, { message: `sessionId ${IDENTIFIER_RULE}` })
  sessionId?: string;

  /** Added to, or overriding, the definition's params. */
  @IsOptional() @IsStringRecord()
  params?: Record<string, string>;

  /** Overlays the stored session memory when merge tags are rendered; not stored. */
  @IsOptional() @IsStateObject()
  memory?: Record<string, unknown>;

  /** Overlays the stored profile when merge tags are rendered; not stored. */
  @IsOptional() @IsStateObject()
  user?: Record<string, unknown>;

  /** The same key for the same bot within 24 h returns the first call's callId and enqueues nothing. */
  @IsOptional() @IsString() @Length(1, 255) @Matches(/^[\x21-\x7e]+$/, { message: 'idempotencyKey must be printable ASCII without spaces' })
  idempotencyKey?: string;
}

/** Most calls in one batch. */
export const MAX_BATCH = 1_000;

/** Body of POST /v1/bots/{botId}/calls/batch. Entries are validated one by one, so one bad entry fails alone. */
export class EnqueueBatchDto {
  @IsArray() @ArrayMinSize(1) @ArrayMaxSize(MAX_BATCH, { message: `calls must hold at most ${MAX_BATCH} entries` })
  @Type(() => Object)
  calls: unknown[];
}

/** Query of GET /v1/bots/{botId}/calls. Only failed calls are indexed (the dead letters). */
export class ListCallsQueryDto {
  @IsIn(['failed'], { message: 'status must be failed (only failed calls are listed)' })
  status: 'failed';

  @IsOptional() @Transform(({ value }) => (typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value))
  @IsInt() @Min(1) @Max(100)
  limit?: number;

  @IsOptional() @IsString() @Length(1, 40)
  cursor?: string;
}
