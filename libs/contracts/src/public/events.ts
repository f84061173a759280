import type { CallError } from './webhook-response';

export type CallEventType = 'call.succeeded' | 'call.failed';
export type TurnEventType = 'turn.completed';

/** What a webhook returned for the state, as returned: a null value deletes the key. */
export interface StateChanges {
  memory: Record<string, unknown>;
  userAttributes: Record<string, unknown>;
}

/** What a call's and a turn's events both carry: what to say, and the state after the merge. */
export interface MergedReply {
  /**
   * Merge tags rendered with the merged state. Empty when failed. A turn's: its succeeded calls',
   * in declared order (and so their quickreplies).
   */
  responses: string[];
  quickreplies: string[];
  /** The full session memory after the merge. */
  memory: Record<string, unknown>;
  /** The full profile after the merge. */
  userAttributes: Record<string, unknown>;
  /**
   * What the webhook returned, as returned. Empty when failed. A turn's: its succeeded calls'
   * changes merged in declared order, a later call winning a key both set.
   */
  changes: StateChanges;
}

/** Published once per finished call, on `hookrunner:events:<botId>` and the `hookrunner:events` stream. */
export interface CallEvent extends MergedReply {
  type: CallEventType;
  callId: string;
  botId: string;
  userId: string;
  sessionId: string;
  webhook: string;
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
export interface TurnCompletedEvent extends MergedReply {
  type: TurnEventType;
  turnId: string;
  botId: string;
  userId: string;
  sessionId: string;
  /** In the order the turn declared them. */
  calls: TurnCallOutcome[];
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
