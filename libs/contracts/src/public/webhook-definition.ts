export type HttpMethod = 'GET' | 'POST';

/** What a bot builder configures for one webhook (the reference page's "Webhook Request"). */
export interface WebhookDefinition {
  /** Unique per bot. */
  name: string;
  method: HttpMethod;
  /** Absolute http(s) URL; may hold merge tags. */
  url: string;
  /** GET: appended to the query string; POST: sent as the JSON body. Values may hold merge tags. */
  params: Record<string, string>;
  /** Extra request headers. Values may hold merge tags. */
  headers: Record<string, string>;
  /** Bounds the whole call: connect, headers and body. Default 10000, 100–60000. */
  timeoutMs: number;
  retry: RetryPolicy;
  createdAt: string;
  updatedAt: string;
}

export interface RetryPolicy {
  /** Total number of tries, the first included (BullMQ `attempts`). Default 3, 1–10. */
  attempts: number;
  /** Base of the exponential backoff between tries. Default 1000. */
  backoffMs: number;
}

export const WEBHOOK_DEFAULTS = {
  timeoutMs: 10_000,
  retry: { attempts: 3, backoffMs: 1_000 },
} as const;

export const WEBHOOK_LIMITS = {
  timeoutMs: { min: 100, max: 60_000 },
  attempts: { min: 1, max: 10 },
  backoffMs: { min: 0, max: 600_000 },
} as const;

/** How the origin of a webhook's URL has fared lately, as GET /v1/bots/{botId}/webhooks shows it. */
export interface WebhookHealth {
  /** The origin's circuit breaker, shared by every worker. */
  circuit: 'closed' | 'open' | 'half_open';
  /** Timeouts, network errors and 5xx among the attempts of the breaker's window (0 when none). */
  failureRatio: number;
  /** When the circuit last opened, while it is open or half-open. */
  openedAt?: string;
}
