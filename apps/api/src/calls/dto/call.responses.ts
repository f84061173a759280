import { ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiSchema, getSchemaPath } from '@nestjs/swagger';
import type { AttemptRecord, CallStatus, CallView, WebhookReply } from '@hookrunner/contracts';
import { JSON_OBJECT_SCHEMA } from '../../common/validators';
import { CallErrorDto, CallEventDto } from '../../events/dto/call-event.dto';

/** 202 of POST /v1/bots/{botId}/calls: the call is in Redis. */
@ApiSchema({ name: 'CallAccepted' })
export class CallAcceptedDto {
  @ApiProperty({ format: 'uuid' })
  callId: string;

  @ApiProperty({ enum: ['queued'] })
  status: 'queued';
}

/** 200 of POST /v1/bots/{botId}/calls with `waitMs`: the call ended in time. */
@ApiSchema({ name: 'CallFinished' })
export class CallFinishedDto {
  @ApiProperty({ format: 'uuid' })
  callId: string;

  @ApiProperty({ enum: ['succeeded', 'failed'] })
  status: 'succeeded' | 'failed';

  @ApiProperty({ type: CallEventDto, description: 'Exactly the event published for the call.' })
  event: CallEventDto;
}

@ApiSchema({ name: 'WebhookReply' })
export class WebhookReplyDto implements WebhookReply {
  @ApiProperty({ type: [String] })
  responses: string[];

  @ApiProperty({ type: [String] })
  quickreplies: string[];

  @ApiProperty(JSON_OBJECT_SCHEMA)
  memory: Record<string, unknown>;

  @ApiProperty(JSON_OBJECT_SCHEMA)
  user_attributes: Record<string, unknown>;
}

@ApiSchema({ name: 'AttemptRecord' })
export class AttemptRecordDto implements AttemptRecord {
  @ApiProperty({ type: 'integer', description: '0 for the first run, n for the n-th replay.' })
  run: number;

  @ApiProperty({ type: 'integer', description: '1-based within its run.' })
  attempt: number;

  @ApiProperty({ format: 'date-time' })
  startedAt: string;

  @ApiProperty({ type: 'integer' })
  durationMs: number;

  @ApiPropertyOptional({ type: 'integer' })
  httpStatus?: number;

  @ApiPropertyOptional({ type: CallErrorDto })
  error?: CallErrorDto;

  @ApiPropertyOptional({ description: 'The first 512 characters of the response body.' })
  bodyExcerpt?: string;
}

const CALL_STATUSES: CallStatus[] = ['queued', 'running', 'retrying', 'succeeded', 'failed'];

/** A failed call as the dead letters list it. */
@ApiSchema({ name: 'FailedCall' })
export class FailedCallDto implements Omit<CallView, 'attemptLog'> {
  @ApiProperty({ format: 'uuid' })
  callId: string;

  @ApiProperty()
  botId: string;

  @ApiProperty()
  webhook: string;

  @ApiProperty()
  userId: string;

  @ApiProperty()
  sessionId: string;

  @ApiProperty({ enum: CALL_STATUSES })
  status: CallStatus;

  @ApiProperty({ type: 'integer' })
  attempts: number;

  @ApiProperty({ format: 'date-time' })
  createdAt: string;

  @ApiPropertyOptional({ format: 'date-time' })
  finishedAt?: string;

  @ApiPropertyOptional({ type: WebhookReplyDto, description: 'The validated reply, when succeeded.' })
  result?: WebhookReplyDto;

  @ApiPropertyOptional({ type: CallErrorDto, description: 'Why it failed, when failed.' })
  error?: CallErrorDto;
}

/** GET /v1/calls/{callId}. */
@ApiSchema({ name: 'CallView' })
export class CallViewDto extends FailedCallDto implements CallView {
  @ApiProperty({ type: [AttemptRecordDto], description: 'Every attempt that reported, oldest first, across replays.' })
  attemptLog: AttemptRecordDto[];
}

/** GET /v1/bots/{botId}/calls?status=failed. */
@ApiSchema({ name: 'FailedPage' })
export class FailedPageDto {
  @ApiProperty({ type: [FailedCallDto] })
  calls: FailedCallDto[];

  @ApiPropertyOptional({ description: 'Pass as `cursor` for the next (older) page; absent on the last page.' })
  nextCursor?: string;
}

/** 202 of POST /v1/calls/{callId}/retry. */
@ApiSchema({ name: 'CallRetried' })
export class CallRetriedDto extends CallAcceptedDto {
  @ApiProperty({ type: 'integer', description: 'The replay’s run number, 1 for the first replay.' })
  run: number;
}

@ApiSchema({ name: 'BatchAccepted' })
export class BatchAcceptedDto {
  @ApiProperty({ format: 'uuid' })
  callId: string;
}

@ApiSchema({ name: 'BatchError' })
export class BatchErrorDto {
  @ApiProperty({ type: 'integer', description: 'The status this call alone would have been answered.', example: 404 })
  status: number;

  @ApiProperty()
  message: string;
}

@ApiSchema({ name: 'BatchRefused' })
export class BatchRefusedDto {
  @ApiProperty({ type: BatchErrorDto })
  error: BatchErrorDto;
}

/** 202 of POST /v1/bots/{botId}/calls/batch: one entry per call, in order. */
@ApiExtraModels(BatchAcceptedDto, BatchRefusedDto)
@ApiSchema({ name: 'BatchResult' })
export class BatchResultDto {
  @ApiProperty({
    type: 'array',
    items: { oneOf: [{ $ref: getSchemaPath(BatchAcceptedDto) }, { $ref: getSchemaPath(BatchRefusedDto) }] },
  })
  calls: Array<BatchAcceptedDto | BatchRefusedDto>;
}
