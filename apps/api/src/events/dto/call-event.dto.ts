import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import {
  CallErrorType,
  type CallError,
  type CallEvent,
  type CallEventType,
  type MergedReply,
  type StateChanges,
  type TurnCallOutcome,
  type TurnCompletedEvent,
} from '@hookrunner/contracts';
import { JSON_OBJECT_SCHEMA } from '../../common/validators';

/** Why a call failed: `error` in the API and the events. */
@ApiSchema({ name: 'CallError' })
export class CallErrorDto implements CallError {
  @ApiProperty({ enum: Object.values(CallErrorType), enumName: 'CallErrorType' })
  type: CallErrorType;

  @ApiProperty({ example: 'the endpoint answered 500' })
  message: string;

  @ApiPropertyOptional({ type: 'integer', description: 'The endpoint’s status, when it answered.' })
  httpStatus?: number;
}

@ApiSchema({ name: 'StateChanges' })
export class StateChangesDto implements StateChanges {
  @ApiProperty({ ...JSON_OBJECT_SCHEMA, description: 'The memory the webhook returned; a null value deletes the key.' })
  memory: Record<string, unknown>;

  @ApiProperty({
    ...JSON_OBJECT_SCHEMA,
    description: 'The user_attributes the webhook returned; a null value deletes the key.',
  })
  userAttributes: Record<string, unknown>;
}

/** How each field of MergedReplyDto is described: for a call's event, or for a turn's. */
type MergedReplyDescriptions = Record<keyof MergedReply, string>;

/**
 * The fields a call's and a turn's events share (MergedReply), as the base of each event's DTO:
 * declared once, described in the words of the event at hand.
 */
function MergedReplyDto(describe: MergedReplyDescriptions) {
  abstract class MergedReplyFields implements MergedReply {
    @ApiProperty({ type: [String], description: describe.responses })
    responses: string[];

    @ApiProperty({ type: [String], description: describe.quickreplies })
    quickreplies: string[];

    @ApiProperty({ ...JSON_OBJECT_SCHEMA, description: describe.memory })
    memory: Record<string, unknown>;

    @ApiProperty({ ...JSON_OBJECT_SCHEMA, description: describe.userAttributes })
    userAttributes: Record<string, unknown>;

    @ApiProperty({ type: StateChangesDto, description: describe.changes })
    changes: StateChangesDto;
  }
  return MergedReplyFields;
}

const CALL_EVENT_TYPES: CallEventType[] = ['call.succeeded', 'call.failed'];

/**
 * Published once per finished call on `hookrunner:events:<botId>` and the `hookrunner:events`
 * stream; also the `event` of a waited call's 200.
 */
@ApiSchema({ name: 'CallEvent' })
export class CallEventDto
  extends MergedReplyDto({
    responses: 'Merge tags rendered with the merged state. Empty when failed.',
    quickreplies: 'Empty when failed.',
    memory: 'The whole session memory after the merge.',
    userAttributes: 'The whole profile after the merge.',
    changes: 'What the webhook returned, as returned. Empty when failed.',
  })
  implements CallEvent
{
  @ApiProperty({ enum: CALL_EVENT_TYPES })
  type: CallEventType;

  @ApiProperty()
  callId: string;

  @ApiProperty()
  botId: string;

  @ApiProperty()
  userId: string;

  @ApiProperty()
  sessionId: string;

  @ApiProperty()
  webhook: string;

  @ApiProperty({ type: 'integer' })
  attempts: number;

  @ApiProperty({ type: 'integer', description: 'From the 202 to the end of the final attempt.' })
  durationMs: number;

  @ApiProperty({ format: 'date-time' })
  finishedAt: string;

  @ApiPropertyOptional({ type: CallErrorDto, description: 'Present when failed.' })
  error?: CallErrorDto;

  @ApiPropertyOptional({
    description: 'Set when the call is one of a turn’s: its `turn.completed` follows once every call has ended.',
  })
  turnId?: string;
}

@ApiSchema({ name: 'TurnCallOutcome' })
export class TurnCallOutcomeDto implements TurnCallOutcome {
  @ApiProperty()
  callId: string;

  @ApiProperty()
  webhook: string;

  @ApiProperty({ enum: ['succeeded', 'failed'] })
  outcome: 'succeeded' | 'failed';

  @ApiPropertyOptional({ type: CallErrorDto, description: 'Present when failed.' })
  error?: CallErrorDto;
}

/**
 * Published once per turn when all its calls have ended (after their own events), on the same
 * channel and stream as calls' events; also the `event` of a waited turn's 200.
 */
@ApiSchema({ name: 'TurnCompletedEvent' })
export class TurnCompletedEventDto
  extends MergedReplyDto({
    responses: 'The succeeded calls’ responses in declared order, merge tags rendered with the merged state.',
    quickreplies: 'The succeeded calls’ quick replies in declared order.',
    memory: 'The whole session memory after the turn’s merge.',
    userAttributes: 'The whole profile after the turn’s merge.',
    changes: 'The succeeded calls’ changes merged in declared order: a later call wins a key both set.',
  })
  implements TurnCompletedEvent
{
  @ApiProperty({ enum: ['turn.completed'] })
  type: 'turn.completed';

  @ApiProperty()
  turnId: string;

  @ApiProperty()
  botId: string;

  @ApiProperty()
  userId: string;

  @ApiProperty()
  sessionId: string;

  @ApiProperty({ type: [TurnCallOutcomeDto], description: 'Every call of the turn, in declared order.' })
  calls: TurnCallOutcomeDto[];

  @ApiProperty({ type: 'integer', description: 'From the 202 to the end of the turn’s last call.' })
  durationMs: number;

  @ApiProperty({ format: 'date-time' })
  finishedAt: string;
}
