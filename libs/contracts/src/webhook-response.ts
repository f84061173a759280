/** The JSON a builder's server answers with, once validated. Missing keys are empty. */
export interface WebhookReply {
  responses: string[];
  quickreplies: string[];
  memory: Record<string, unknown>;
  user_attributes: Record<string, unknown>;
}

/** Why a call failed. `error.type` in the API, the events and the metrics. */
export enum CallErrorType {
  Timeout = 'timeout',
  Network = 'network',
  HttpStatus = 'http_status',
  InvalidResponse = 'invalid_response',
  /** The URL led to an address the outbound policy blocks (SSRF guard); never retried. */
  BlockedUrl = 'blocked_url',
  /** The endpoint's origin failed too often lately: its circuit is open and no request was sent. Retried. */
  CircuitOpen = 'circuit_open',
}

export interface CallError {
  type: CallErrorType;
  message: string;
  httpStatus?: number;
}
