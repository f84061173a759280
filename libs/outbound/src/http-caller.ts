import { Agent, request } from 'undici';
import { createGuardedAgent, ParsedCidr } from '@hookrunner/security';
import { MAX_REPLY_BYTES, OutgoingRequest, ReplyTooLargeError } from '@hookrunner/webhook';

/** One HTTP exchange with a webhook endpoint, body read in full (bounded). */
export interface HttpExchange {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  bytes: number;
  durationMs: number;
}

export interface HttpCallerOptions {
  /** Largest response body read; a larger one fails the call. Default 1 MiB. */
  maxBodyBytes?: number;
  /** Largest response head accepted. Default 16 KiB (Node's own parser default). */
  maxHeaderBytes?: number;
  /** Private, loopback or reserved ranges calls may reach anyway (OUTBOUND_ALLOW_CIDRS). Default none. */
  allow?: readonly ParsedCidr[];
}

/**
 * Sends webhook requests over one shared keep-alive agent. Every connection is checked at connect
 * time against the outbound policy, on the address actually dialled (libs/security). Redirects
 * are never followed (undici's request() does not follow them unless told to), and the whole
 * exchange — connect, head and body — is bounded by the call's timeout.
 */
export class HttpCaller {
  private readonly agent: Agent;
  private readonly maxBodyBytes: number;

  constructor(options: HttpCallerOptions = {}) {
    this.maxBodyBytes = options.maxBodyBytes ?? MAX_REPLY_BYTES;
    this.agent = createGuardedAgent(options.allow ?? [], {
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 60_000,
      maxHeaderSize: options.maxHeaderBytes ?? 16 * 1024,
      connect: { timeout: 10_000 },
    });
  }

  /** Resolves with the exchange for any HTTP status; rejects on timeouts, network errors and oversized bodies. */
  async send(req: OutgoingRequest, timeoutMs: number): Promise<HttpExchange> {
    const started = performance.now();
    const signal = AbortSignal.timeout(timeoutMs);
    const res = await request(req.url, {
      dispatcher: this.agent,
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const chunks: Buffer[] = [];
    let bytes = 0;
    try {
      for await (const chunk of res.body) {
        bytes += (chunk as Buffer).length;
        if (bytes > this.maxBodyBytes) throw new ReplyTooLargeError(this.maxBodyBytes);
        chunks.push(chunk as Buffer);
      }
    } catch (err) {
      res.body.destroy();
      throw err;
    }
    return {
      status: res.statusCode,
      headers: res.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      bytes,
      durationMs: performance.now() - started,
    };
  }

  /** Ends every connection now, aborting requests still in flight (at shutdown, after the grace period). */
  async destroy(): Promise<void> {
    await this.agent.destroy();
  }
}
