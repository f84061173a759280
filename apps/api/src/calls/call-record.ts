import type { AttemptRecord, CallError, CallStatus, WebhookReply } from '@hookrunner/contracts';

/** What GET /v1/calls/{callId} returns. */
export interface CallView {
  callId: string;
  botId: string;
  webhook: string;
  userId: string;
  sessionId: string;
  status: CallStatus;
  attempts: number;
  createdAt: string;
  finishedAt?: string;
  result?: WebhookReply;
  error?: CallError;
  /** Every attempt that reported, oldest first, across replays. */
  attemptLog: AttemptRecord[];
}

/** A finished call as the results consumer stores it. */
export interface CallRecord extends Omit<CallView, 'attemptLog'> {
  run: number;
  lastAttempt: AttemptRecord;
}
