// Failed calls (dead letters), paged, and one call's detail, with Retry.

import { botPath, callPath, request } from './api.js';
import { $, fill, h, pretty, row, shortId, show, when } from './dom.js';

const PAGE_SIZE = 10;
const callForm = $('call-form');
let botId;
/** cursors[i] fetches page i of those visited; page 0 (the newest) needs none. */
const cursors = [undefined];
let current = 0;
let nextCursor;
let shownCall;
/** Events seen per call since the page opened: a retry that sees one arrive says nothing more. */
const endings = new Map();

export function initCalls() {
  $('failed-newest').addEventListener('click', () => void showFailedPage(0));
  $('failed-refresh').addEventListener('click', () => void showFailedPage(current));
  $('failed-older').addEventListener('click', () => {
    cursors[current + 1] = nextCursor;
    void showFailedPage(current + 1);
  });
  callForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const callId = callForm.elements.namedItem('callId').value.trim();
    if (callId !== '') void openCall(callId);
  });
  $('call-retry').addEventListener('click', () => void retry(shownCall));
}

export async function loadCalls(bot) {
  botId = bot;
  shownCall = undefined;
  show($('call-detail'), false);
  callForm.elements.namedItem('callId').value = '';
  callForm.querySelector('.form-error').replaceChildren();
  await showFailedPage(0);
}

async function showFailedPage(index) {
  const error = $('failed-error');
  error.replaceChildren();
  cursors.length = index + 1;
  current = index;
  const cursor = cursors[index];
  const query = `?status=failed&limit=${PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
  try {
    const page = await request('GET', botPath(botId, `/calls${query}`));
    fill($('failed-table').tBodies[0], page.calls.map(failedRow));
    nextCursor = page.nextCursor;
    $('failed-older').disabled = !page.nextCursor;
    $('failed-newest').disabled = index === 0;
  } catch (err) {
    error.textContent = err.message;
  }
}

function failedRow(call) {
  const actions = [
    h('button', { type: 'button', onclick: () => void openCall(call.callId) }, 'Open'),
    h('button', { type: 'button', onclick: () => void retry(call.callId) }, 'Retry'),
  ];
  return row([when(call.finishedAt), shortId(call.callId), call.webhook, call.userId, call.error?.message, actions], {
    'data-call': call.callId,
  });
}

/** Shows a newly failed call when the newest page is the one shown. */
export function refreshFailed() {
  if (current === 0) void showFailedPage(0);
}

/** Reloads the detail when `callId` is the call shown (its event just arrived, say). */
export function refreshCall(callId) {
  if (callId === undefined) return;
  endings.set(callId, (endings.get(callId) ?? 0) + 1);
  if (callId !== shownCall) return;
  $('call-retry-status').textContent = '';
  void openCall(callId, false);
}

export async function openCall(callId, scroll = true) {
  const error = callForm.querySelector('.form-error');
  error.replaceChildren();
  callForm.elements.namedItem('callId').value = callId;
  let call;
  try {
    // The call's event may come while it is read, and refreshCall skips a call not yet shown: a
    // read that may predate the event (a replay still queued, say) is read again.
    let ended;
    do {
      ended = endings.get(callId) ?? 0;
      call = await request('GET', callPath(callId));
    } while ((endings.get(callId) ?? 0) !== ended);
  } catch (err) {
    error.textContent = err.message;
    show($('call-detail'), false);
    return;
  }
  if (callId !== shownCall) $('call-retry-status').textContent = '';
  shownCall = callId;
  renderCall(call);
  if (scroll) $('call').scrollIntoView({ block: 'start' });
  return call;
}

function renderCall(call) {
  const facts = [
    ['Status', call.status],
    ['Call', call.callId],
    ['Webhook', call.webhook],
    ['User', call.userId],
    ['Session', call.sessionId],
    ['Attempts', call.attempts],
    ['Created', when(call.createdAt)],
    ['Finished', when(call.finishedAt)],
    ['Error', call.error ? `${call.error.type}: ${call.error.message}` : ''],
  ];
  fill(
    $('call-summary'),
    facts
      .filter(([, detail]) => detail !== '' && detail !== undefined)
      .flatMap(([term, detail]) => [h('dt', {}, term), h('dd', { 'data-fact': term }, detail)]),
  );
  show($('call-retry'), call.status === 'failed');
  const attempts = (call.attemptLog ?? []).map((a) =>
    row([
      a.run,
      a.attempt,
      when(a.startedAt),
      attemptStatus(a),
      `${a.durationMs} ms`,
      h('pre', {}, a.bodyExcerpt ?? ''),
    ]),
  );
  fill($('attempt-table').tBodies[0], attempts);
  const result = call.result;
  $('call-result').textContent = result
    ? pretty({ responses: result.responses, quickreplies: result.quickreplies })
    : '(none)';
  $('call-memory').textContent = result ? pretty(result.memory) : '(none)';
  $('call-user').textContent = result ? pretty(result.user_attributes) : '(none)';
  show($('call-detail'), true);
}

function attemptStatus(attempt) {
  const status = attempt.httpStatus !== undefined ? `HTTP ${attempt.httpStatus}` : '';
  // An http_status error only repeats the status.
  const error =
    attempt.error && attempt.error.type !== 'http_status' ? `${attempt.error.type}: ${attempt.error.message}` : '';
  return [status, error].filter(Boolean).join(' · ') || 'ok';
}

async function retry(callId) {
  const status = $('call-retry-status');
  const endedBefore = endings.get(callId) ?? 0;
  let queued;
  try {
    queued = await request('POST', callPath(callId, '/retry'));
  } catch (err) {
    await openCall(callId);
    status.textContent = `Retry refused: ${err.message}`;
    return;
  }
  await showFailedPage(current);
  const call = await openCall(callId);
  // Said only while the replay runs: once its event is in, the detail above shows how it ended.
  const ended = call && (call.status === 'succeeded' || call.status === 'failed');
  // The replay's event may have come (and refreshed the detail) while this request was out.
  const eventCame = (endings.get(callId) ?? 0) > endedBefore;
  if (!eventCame && !(ended && call.attemptLog.some((attempt) => attempt.run === queued.run))) {
    status.textContent = `Queued again (run ${queued.run}); the result shows here when it ends.`;
  }
}
