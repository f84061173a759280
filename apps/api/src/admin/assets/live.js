// Live events: the bot's SSE stream, read with fetch so the key travels in a header, not the URL.

import { authHeaders, botPath } from './api.js';
import { $, h, shortId, when } from './dom.js';

const MAX_ROWS = 100;
const MAX_RETRY_MS = 15_000;
let following;

/**
 * Follows the bot's events until stopLive() or another startLive(); reconnects with backoff when
 * the stream breaks. `onEvent(event)` runs for every event after its row is shown.
 */
export function startLive(botId, onEvent, openCall) {
  stopLive();
  $('event-table').tBodies[0].replaceChildren();
  following = new AbortController();
  void follow(botId, following.signal, (event) => {
    addRow(event, openCall);
    onEvent(event);
  });
}

export function stopLive() {
  following?.abort();
  following = undefined;
  setStatus('');
}

async function follow(botId, signal, onEvent) {
  let retryMs = 1_000;
  while (!signal.aborted) {
    setStatus('connecting…');
    try {
      const response = await fetch(botPath(botId, '/events/stream'), {
        headers: { ...authHeaders(), accept: 'text/event-stream' },
        cache: 'no-store',
        credentials: 'omit',
        signal,
      });
      if (response.status === 401) {
        window.dispatchEvent(new CustomEvent('hookrunner:unauthorized'));
        return;
      }
      if (!response.ok) throw new Error(`the stream answered ${response.status}`);
      setStatus('live');
      retryMs = 1_000;
      await readFrames(response.body, (frame) => {
        if (frame.data !== undefined) onEvent(JSON.parse(frame.data));
      });
      if (!signal.aborted) setStatus('stream ended; reconnecting…');
    } catch (err) {
      if (signal.aborted) return;
      setStatus(`disconnected (${err.message}); reconnecting…`);
    }
    await sleep(retryMs, signal);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  }
}

/** Splits a text/event-stream body into frames of `{ id, event, data }`; comments are skipped. */
async function readFrames(body, onFrame) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      onFrame(parseFrame(buffer.slice(0, end)));
      buffer = buffer.slice(end + 2);
    }
  }
}

function parseFrame(text) {
  const frame = {};
  const data = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') data.push(value);
    else if (field === 'id' || field === 'event') frame[field] = value;
  }
  if (data.length > 0) frame.data = data.join('\n');
  return frame;
}

function addRow(event, openCall) {
  const tr = event.type === 'turn.completed' ? turnRow(event) : callRow(event, openCall);
  const body = $('event-table').tBodies[0];
  body.prepend(tr);
  while (body.rows.length > MAX_ROWS) body.lastElementChild.remove();
}

function callRow(event, openCall) {
  const outcome =
    event.type === 'call.failed' ? (event.error?.message ?? 'failed') : (event.responses ?? []).join(' · ');
  const call = h(
    'button',
    { type: 'button', class: 'link', onclick: () => openCall(event.callId) },
    shortId(event.callId),
  );
  const cells = [when(event.finishedAt), event.type, call, event.webhook, event.userId, outcome];
  const tr = h('tr', { class: event.type === 'call.failed' ? 'failed' : 'succeeded', 'data-call': event.callId });
  for (const cell of cells) tr.append(h('td', {}, cell));
  return tr;
}

/** A turn's row: its calls' webhooks in declared order (a failed one marked ✗) and what it said. */
function turnRow(event) {
  const webhooks = (event.calls ?? []).map((c) => (c.outcome === 'failed' ? `✗ ${c.webhook}` : c.webhook)).join(', ');
  const failed = (event.calls ?? []).some((c) => c.outcome === 'failed');
  const cells = [
    when(event.finishedAt),
    event.type,
    // A cell of text and the short id's element: a template string would print the element's type.
    ['turn ', shortId(event.turnId)],
    webhooks,
    event.userId,
    (event.responses ?? []).join(' · '),
  ];
  const tr = h('tr', { class: failed ? 'failed' : 'succeeded', 'data-turn': event.turnId });
  for (const cell of cells) tr.append(h('td', {}, cell));
  return tr;
}

function setStatus(text) {
  $('live-status').textContent = text;
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
