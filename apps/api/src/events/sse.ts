/*
 * The text/event-stream framing (WHATWG HTML, "Server-sent events"): pure, so the rules that keep
 * one event from spilling into the next are tested without a server.
 */

/** Headers of an event stream: never cached, and not buffered by a reverse proxy. */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
} as const;

/** One event. `id` and `event` are kept to one line; every line of `data` becomes a `data:` line. */
export interface SseMessage {
  id?: string;
  event?: string;
  data: string;
}

/** A comment: clients ignore it, and it keeps proxies and load balancers from closing an idle stream. */
export function sseComment(text: string): string {
  return `: ${oneLine(text)}\n\n`;
}

export function sseMessage({ id, event, data }: SseMessage): string {
  let frame = '';
  if (id !== undefined) frame += `id: ${oneLine(id)}\n`;
  if (event !== undefined) frame += `event: ${oneLine(event)}\n`;
  for (const line of data.split(/\r\n|\r|\n/)) frame += `data: ${line}\n`;
  return `${frame}\n`;
}

/** A line break would end the field early; a NUL makes clients drop an `id`. */
function oneLine(text: string): string {
  return text.replace(/[\r\n\0]+/g, ' ');
}
