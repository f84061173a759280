import type { CallError, CallStatus, WebhookReply } from '@hookrunner/contracts';

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
}
