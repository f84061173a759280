import type { WebhookCallJob } from '@hookrunner/contracts';
import { type MergeContext, renderMergeTags } from './merge-tags';

/** One HTTP request, ready for the client: merge tags rendered, header names lower-cased. */
export interface OutgoingRequest {
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  /** POST only: the rendered params as a JSON object. */
  body?: string;
}

/** What identifies the call to the endpoint. */
export interface RequestIdentity {
  /** Sent as `idempotency-key`, so the endpoint can recognise a retried call. */
  callId: string;
  userAgent: string;
}

// C0 controls and DEL (tab aside) are invalid in a header value; CR/LF would even start a new header.
const HEADER_VALUE_CONTROLS = /[\x00-\x08\x0a-\x1f\x7f]/g;

/**
 * Renders a call's request. URL tags are rendered with `encodeURIComponent` on the values. GET
 * appends the params to the query string (after any query the URL already has); POST sends them
 * as a JSON object. Definition headers are rendered without encoding and stripped of control
 * characters; `accept` defaults to JSON, `user-agent` and `idempotency-key` always win.
 *
 * @throws TypeError when a GET's rendered URL is not a valid absolute URL.
 */
export function buildRequest(
  request: WebhookCallJob['request'],
  ctx: MergeContext,
  identity: RequestIdentity,
): OutgoingRequest {
  const url = renderMergeTags(request.url, ctx, encodeURIComponent);
  const params = renderValues(request.params, ctx);
  const headers: Record<string, string> = { accept: 'application/json' };
  for (const [name, value] of Object.entries(renderValues(request.headers, ctx))) {
    headers[name.toLowerCase()] = value.replace(HEADER_VALUE_CONTROLS, '');
  }
  headers['user-agent'] = identity.userAgent;
  headers['idempotency-key'] = identity.callId;

  if (request.method === 'POST') {
    headers['content-type'] = 'application/json';
    return { method: 'POST', url, headers, body: JSON.stringify(params) };
  }
  delete headers['content-type'];
  return { method: 'GET', url: appendQuery(url, params), headers };
}

function renderValues(values: Record<string, string>, ctx: MergeContext): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, renderMergeTags(value, ctx)]));
}

/** Appends without re-serialising the existing query, so its order and encoding stay as written. */
function appendQuery(url: string, params: Record<string, string>): string {
  const extra = new URLSearchParams(Object.entries(params)).toString();
  if (!extra) return url;
  const target = new URL(url);
  target.search = target.search ? `${target.search}&${extra}` : extra;
  return target.toString();
}
