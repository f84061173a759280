import type { AttemptRecord } from './jobs';
import type { CallError, WebhookReply } from './webhook-response';

/** Where a call stands. A replayed call goes from `failed` back to `queued`. */
export type CallStatus = 'queued' | 'running' | 'retrying' | 'succeeded' | 'failed';

/** What GET /v1/calls/{callId} returns. */
export interface CallView {
  callId: string;
  botId: string;
  webhook: string;
  userId: string;
  sessionId: string;
  status: CallStatus;
  /** Attempts started in the current run. */
  attempts: number;
  createdAt: string;
  finishedAt?: string;
  result?: WebhookReply;
  error?: CallError;
  /** Every attempt that reported, oldest first, across replays. */
  attemptLog: AttemptRecord[];
}
