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

/** One HTTP attempt of a call, as GET /v1/calls/{callId} lists it in `attemptLog`. */
export interface AttemptRecord {
  /** 0 for the first run, n for the n-th replay. */
  run: number;
  /** 1-based within its run. */
  attempt: number;
  startedAt: string;
  durationMs: number;
  /** The endpoint's status, when it answered. */
  httpStatus?: number;
  error?: CallError;
  /** The first bytes of the response body (at most ATTEMPT_BODY_EXCERPT_CHARS). */
  bodyExcerpt?: string;
}

export const ATTEMPT_BODY_EXCERPT_CHARS = 512;
