/** The JSON a builder's server answers with, once validated. Missing keys are empty. */
export interface WebhookReply {
  responses: string[];
  quickreplies: string[];
  memory: Record<string, unknown>;
  user_attributes: Record<string, unknown>;
}

/** Why a call failed. `error.type` in the API, the events and the metrics. */
export enum CallErrorType {
  /** The endpoint did not answer within the webhook's timeoutMs. */
  Timeout = 'timeout',
  /**
   * The connection to the endpoint failed: refused, reset, unreachable, name not found, a TLS or
   * certificate failure, or a reply that is not HTTP.
   */
  Network = 'network',
  HttpStatus = 'http_status',
  InvalidResponse = 'invalid_response',
  /** The URL led to an address the outbound policy blocks (SSRF guard); never retried. */
  BlockedUrl = 'blocked_url',
  /**
   * Hookrunner could not perform the call itself: the request could not be built (a merge tag
   * rendered into an invalid header, a header sealed with another SECRETS_KEY), the call was
   * interrupted by worker crashes more than WORKER_MAX_STALLED_COUNT times, or a fault of
   * Hookrunner's own while sending. Never counted against the origin's circuit; retried only when
   * the worker ran short of its own resources (file handles, local ports, memory).
   */
  Internal = 'internal',
  /** The endpoint's origin failed too often lately: its circuit is open and no request was sent. Retried. */
  CircuitOpen = 'circuit_open',
}

export interface CallError {
  type: CallErrorType;
  message: string;
  httpStatus?: number;
}
