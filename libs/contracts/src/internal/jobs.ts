import type { AttemptRecord } from '../public/calls';
import type { StateChanges } from '../public/events';
import type { HttpMethod, RetryPolicy, WebhookDefinition } from '../public/webhook-definition';
import type { CallError, WebhookReply } from '../public/webhook-response';

/** The identity of one call: who it is for and which webhook it runs. */
export interface CallTarget {
  callId: string;
  botId: string;
  userId: string;
  sessionId: string;
  webhook: string;
}

/** What the platform gave a call for its merge tags, over the stored state; never stored. */
export interface StateOverlays {
  /** Overlays the stored session memory when merge tags are rendered. */
  memory: Record<string, unknown>;
  /** Overlays the stored profile when merge tags are rendered. */
  user: Record<string, unknown>;
}

/** A call's place in its turn: enough for the results consumer to complete the turn on its own. */
export interface TurnMembership {
  turnId: string;
  /** This call's position in the turn's declared order. */
  index: number;
  /** Every call of the turn, in declared order. */
  callIds: string[];
  /** Epoch ms of the turn's 202. */
  enqueuedAt: number;
}

/**
 * Payload of a job on the calls queue. The definition is snapshotted at enqueue time so a call
 * runs the webhook as it was when the conversation reached it.
 */
export interface WebhookCallJob extends CallTarget, StateOverlays {
  /** The definition's request, its params overlaid by those given at enqueue, its header values sealed. */
  request: Pick<WebhookDefinition, 'method' | 'url' | 'params' | 'headers' | 'timeoutMs'>;
  retry: RetryPolicy;
  /** Epoch ms of the 202. */
  enqueuedAt: number;
  /** 0 for the first run, n for the n-th replay through POST /v1/calls/{callId}/retry. */
  run: number;
  /** Set when the call is one of a turn's. */
  turn?: TurnMembership;
}

/**
 * Payload of a job on the results queue: a call that reached a final state. Its overlays are
 * kept so responses render as the call saw its state.
 */
export interface CallResultJob extends CallTarget, StateOverlays {
  method: HttpMethod;
  outcome: 'succeeded' | 'failed';
  /** Present when succeeded. */
  reply?: WebhookReply;
  /** Present when failed. */
  error?: CallError;
  attempts: number;
  enqueuedAt: number;
  /** The final attempt; earlier ones were logged by the worker as they ended. */
  lastAttempt: AttemptRecord;
  /** Epoch ms when the final attempt ended. */
  finishedAt: number;
  run: number;
  turn?: TurnMembership;
}

/** One ended call of a turn, as the results consumer keeps it until the turn's last call ends. */
export interface TurnPart {
  callId: string;
  webhook: string;
  outcome: 'succeeded' | 'failed';
  error?: CallError;
  /** As the webhook returned them: rendered once the turn's state is merged. */
  responses: string[];
  quickreplies: string[];
  changes: StateChanges;
  finishedAt: number;
}
