import type { CallError } from './webhook-response';

export type CallEventType = 'call.succeeded' | 'call.failed';
export type TurnEventType = 'turn.completed';

/** Published once per finished call, on `hookrunner:events:<botId>` and the `hookrunner:events` stream. */
export interface CallEvent {
  type: CallEventType;
  callId: string;
  botId: string;
  userId: string;
  sessionId: string;
  webhook: string;
  /** Merge tags rendered with the merged state. Empty when failed. */
  responses: string[];
  quickreplies: string[];
  /** The full session memory after the merge. */
  memory: Record<string, unknown>;
  /** The full profile after the merge. */
  userAttributes: Record<string, unknown>;
  /** What the webhook returned, as returned. Empty when failed. */
  changes: { memory: Record<string, unknown>; userAttributes: Record<string, unknown> };
  attempts: number;
  /** 202 to the end of the final attempt. */
  durationMs: number;
  finishedAt: string;
  error?: CallError;
  /** Set when the call is one of a turn's: its turn.completed follows once every call has ended. */
  turnId?: string;
}

/** How one call of a turn ended, in the turn's event. */
export interface TurnCallOutcome {
  callId: string;
  webhook: string;
  outcome: 'succeeded' | 'failed';
  /** Present when failed. */
  error?: CallError;
}

/**
 * Published once per turn, when every call of it has ended (after their own events), on the same
 * channel and stream as the calls' events.
 */
export interface TurnCompletedEvent {
  type: TurnEventType;
  turnId: string;
  botId: string;
  userId: string;
  sessionId: string;
  /** In the order the turn declared them. */
  calls: TurnCallOutcome[];
  /** Every succeeded call's responses, in declared order, merge tags rendered with the merged state. */
  responses: string[];
  quickreplies: string[];
  /** The full session memory after the turn's changes were merged in declared order. */
  memory: Record<string, unknown>;
  /** The full profile after the merge. */
  userAttributes: Record<string, unknown>;
  /** The succeeded calls' changes merged in declared order: a later call wins a key both set. */
  changes: { memory: Record<string, unknown>; userAttributes: Record<string, unknown> };
  /** 202 to the end of the last call. */
  durationMs: number;
  finishedAt: string;
}

/** Anything published on a bot's channel and the events stream, discriminated by `type`. */
export type HookrunnerEvent = CallEvent | TurnCompletedEvent;

/** What an event is about: the call's id, or the turn's. */
export function eventSubject(event: HookrunnerEvent): string {
  return event.type === 'turn.completed' ? event.turnId : event.callId;
}
