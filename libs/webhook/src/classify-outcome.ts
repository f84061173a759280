import { type CallError, CallErrorType, type WebhookReply } from '@hookrunner/contracts';
import { ReplyTooLargeError, validateReply } from './validate-reply';

/** What one finished attempt means for the call: done, try again (no sooner than `retryAfterMs`), or give up. */
export type AttemptOutcome =
  | { kind: 'success'; reply: WebhookReply }
  | { kind: 'retry'; error: CallError; retryAfterMs?: number }
  | { kind: 'fail'; error: CallError };

/** Response header values as undici hands them over. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

const TIMEOUT_NAMES = new Set(['TimeoutError', 'AbortError']);
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);
const MAX_LOCATION_LENGTH = 200;

/**
 * Classifies a response: 2xx with a valid body succeeds, 2xx with an invalid one fails; 3xx fails
 * (redirects are not followed); 429 and 5xx are retried, honouring Retry-After (seconds or an
 * HTTP-date relative to `now`); every other status fails.
 */
export function classifyResponse(
  status: number,
  headers: ResponseHeaders,
  body: string,
  now: number = Date.now(),
): AttemptOutcome {
  if (status >= 200 && status < 300) {
    const result = validateReply(body);
    if (result.ok) return { kind: 'success', reply: result.reply };
    return { kind: 'fail', error: { type: CallErrorType.InvalidResponse, message: result.errors.join('; ') } };
  }
  if (status >= 300 && status < 400) {
    const location = header(headers, 'location')?.slice(0, MAX_LOCATION_LENGTH);
    const message = `redirect not followed (${status}${location ? ` to ${location}` : ''})`;
    return { kind: 'fail', error: httpStatusError(status, message) };
  }
  const error = httpStatusError(status, `endpoint answered HTTP ${status}`);
  if (status === 429 || (status >= 500 && status < 600)) {
    const retryAfterMs = parseRetryAfter(header(headers, 'retry-after'), now);
    return retryAfterMs === undefined ? { kind: 'retry', error } : { kind: 'retry', error, retryAfterMs };
  }
  return { kind: 'fail', error };
}

/**
 * The code of the error the SSRF guard (libs/security) raises when a connection would reach a
 * blocked address; classified as `blocked_url`, never retried.
 */
export const BLOCKED_ADDRESS_CODE = 'EBLOCKED_ADDRESS';

const HEADER_OVERFLOW_CODES = new Set(['UND_ERR_HEADERS_OVERFLOW', 'HPE_HEADER_OVERFLOW']);

/** Plain words for the transport errors an author meets most; the code stays beside them. */
const NETWORK_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused by the endpoint',
  ECONNRESET: 'connection reset by the endpoint',
  EPIPE: 'connection closed by the endpoint while sending',
  UND_ERR_SOCKET: 'connection closed before the response was complete',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed for now',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/**
 * The worker's own machine ran short (file handles, local ports, buffers, memory): Hookrunner's
 * fault, not the endpoint's, and likely gone by the next attempt.
 */
const LOCAL_RESOURCE_CODES = new Set(['EMFILE', 'ENFILE', 'EADDRNOTAVAIL', 'ENOBUFS', 'ENOMEM']);

/**
 * The request itself is malformed (a rendered header value undici refuses, say) or asks for
 * something undici does not do: no retry can fix it.
 */
const UNFIXABLE_CODES = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'ERR_INVALID_URL',
  'ERR_INVALID_CHAR',
  'ERR_INVALID_HTTP_TOKEN',
]);

/**
 * undici's codes for a connection that broke on the way to or from the endpoint: the socket closed
 * or reset (UND_ERR_SOCKET, UND_ERR_INFO), or the body ended short of its Content-Length. Its
 * timeouts are in TIMEOUT_CODES. Every other UND_ERR_* code is Hookrunner's own doing (a closed
 * agent, a handler bug) and classified `internal`.
 */
const NETWORK_UNDICI_CODES = new Set(['UND_ERR_SOCKET', 'UND_ERR_INFO', 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH']);

/** Certificate verification failures, as Node names them (OpenSSL's X509_V_ERR_* less the prefix). */
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CRL_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID',
  'CRL_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD',
  'ERROR_IN_CRL_NEXT_UPDATE_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
]);

/**
 * Whether an error says the exchange with the endpoint failed (its fault or the network's), as
 * opposed to Hookrunner's own: a system error (ECONNREFUSED, EAI_AGAIN), undici's socket errors,
 * a TLS handshake or certificate failure, or a reply that is not HTTP at all (undici's
 * HTTPParserError, which in undici 7 carries no code).
 */
function isNetworkFault(code: string | undefined, name: string | undefined): boolean {
  if (name === 'HTTPParserError') return true;
  if (code === undefined) return false;
  return (
    /^E[A-Z0-9]+$|^EAI_[A-Z]+$/.test(code) ||
    NETWORK_UNDICI_CODES.has(code) ||
    code.startsWith('HPE_') ||
    /^ERR_(SSL|TLS)_/.test(code) ||
    CERTIFICATE_CODES.has(code)
  );
}

/**
 * Classifies what undici's `request()` threw: a body over the size limit fails; timeouts and
 * errors of the connection to the endpoint are retried. Anything else (a TypeError, a closed
 * agent, a request undici refuses) is Hookrunner's own fault: `internal`, not counted against the
 * endpoint's origin, and not retried unless the worker only ran short of local resources.
 * Messages carry the error code (or name) only, never the error's own message, which may quote
 * the URL and with it a secret.
 */
export function classifyError(err: unknown): AttemptOutcome {
  if (err instanceof ReplyTooLargeError) {
    return { kind: 'fail', error: { type: CallErrorType.InvalidResponse, message: err.message } };
  }
  const code = errorCode(err);
  if (code === BLOCKED_ADDRESS_CODE) {
    // The message names the host and the blocked range, never the URL.
    const message = field(err, 'message');
    return {
      kind: 'fail',
      error: {
        type: CallErrorType.BlockedUrl,
        message: (typeof message === 'string' ? message : 'blocked outbound connection').slice(0, 300),
      },
    };
  }
  if (code && HEADER_OVERFLOW_CODES.has(code)) {
    // An endpoint that floods its response head will do it again: not worth a retry.
    return {
      kind: 'fail',
      error: { type: CallErrorType.InvalidResponse, message: `response headers exceed the size limit (${code})` },
    };
  }
  if (code && UNFIXABLE_CODES.has(code)) {
    return { kind: 'fail', error: { type: CallErrorType.Internal, message: `request could not be sent (${code})` } };
  }
  // Read by shape: AbortSignal.timeout's DOMException is not an Error in every realm.
  const rawName = field(err, 'name');
  const name = isSafeToken(rawName) ? rawName : undefined;
  if ((name && TIMEOUT_NAMES.has(name)) || (code && TIMEOUT_CODES.has(code))) {
    return { kind: 'retry', error: { type: CallErrorType.Timeout, message: `request timed out (${code ?? name})` } };
  }
  if (code && LOCAL_RESOURCE_CODES.has(code)) {
    return {
      kind: 'retry',
      error: { type: CallErrorType.Internal, message: `worker out of local resources (${code})` },
    };
  }
  if (isNetworkFault(code, name)) {
    const reason = (code && NETWORK_REASONS[code]) ?? 'network error';
    return { kind: 'retry', error: { type: CallErrorType.Network, message: `${reason} (${code ?? name})` } };
  }
  return {
    kind: 'fail',
    error: {
      type: CallErrorType.Internal,
      message: `internal error while sending the request (${code ?? name ?? 'unknown'})`,
    },
  };
}

/**
 * Parses Retry-After into milliseconds from `now`: delta-seconds or an HTTP-date (a past date is 0).
 * Anything else is undefined.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // An HTTP-date always names its month; this keeps Date.parse from reading "-5" as a year.
  if (!/[a-z]/i.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function httpStatusError(status: number, message: string): CallError {
  return { type: CallErrorType.HttpStatus, message, httpStatus: status };
}

function header(headers: ResponseHeaders, name: string): string | undefined {
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  return Array.isArray(value) ? value[0] : value;
}

/** undici puts the code on the error; Node's Happy Eyeballs wraps socket errors in an AggregateError. */
function errorCode(err: unknown): string | undefined {
  const errors = field(err, 'errors');
  const candidates = [err, field(err, 'cause'), Array.isArray(errors) ? errors[0] : undefined];
  for (const candidate of candidates) {
    const code = field(candidate, 'code');
    if (isSafeToken(code)) return code;
  }
  return undefined;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function isSafeToken(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9_]{1,64}$/.test(value);
}
