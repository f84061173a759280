import type { CallError } from './webhook-response';

export type CallEventType = 'call.succeeded' | 'call.failed';

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
}
