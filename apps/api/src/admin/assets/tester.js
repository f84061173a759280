// The Test button: POST …/webhooks/{name}/test, and the report exactly as it comes back.

import { ApiError, request, webhookPath } from './api.js';
import { $, fill, h, show } from './dom.js';
import { clearErrors, jsonObject, showErrors, value } from './forms.js';

const form = $('test-form');
let botId;

export function initTester() {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void runTest();
  });
}

export function resetTester(bot) {
  botId = bot;
  clearErrors(form);
  show($('test-result'), false);
}

/** Offers the bot's webhooks, keeping the choice when it is still there. */
export function setTestWebhooks(webhooks) {
  const select = form.elements.namedItem('webhook');
  const chosen = select.value;
  fill(
    select,
    webhooks.map((w) => h('option', { value: w.name }, w.name)),
  );
  if (webhooks.some((w) => w.name === chosen)) select.value = chosen;
}

async function runTest() {
  const errors = [];
  const name = form.elements.namedItem('webhook').value;
  if (name === '') errors.push('webhook must be chosen: create one first');
  const body = { memory: jsonObject(form, 'memory', errors), user: jsonObject(form, 'user', errors) };
  if (value(form, 'userId') !== '') body.userId = value(form, 'userId');
  if (value(form, 'sessionId') !== '') body.sessionId = value(form, 'sessionId');
  if (errors.length > 0) return showErrors(form, errors);
  clearErrors(form);
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  try {
    showReport(await request('POST', webhookPath(botId, name, '/test'), body));
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    show($('test-result'), false);
    showErrors(form, err.messages, err.status === 404 ? 'webhook' : undefined);
  } finally {
    button.disabled = false;
  }
}

function showReport(report) {
  $('test-valid').textContent = report.valid ? 'yes' : 'no';
  fill(
    $('test-errors'),
    (report.errors ?? []).map((e) => h('li', {}, e)),
  );
  const { method, url, headers, body } = report.request;
  $('test-request').textContent = [`${method} ${url}`, headerLines(headers), '', body ?? ''].join('\n');
  const response = report.response;
  $('test-response').textContent = response
    ? [`HTTP ${response.status} · ${response.durationMs} ms`, headerLines(response.headers), '', response.body].join(
        '\n',
      )
    : '(no response)';
  show($('test-result'), true);
}

function headerLines(headers) {
  return Object.entries(headers ?? {})
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`)
    .join('\n');
}
