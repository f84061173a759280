// The bot's webhooks: list, create, edit, delete.

import { ApiError, botPath, request, webhookPath } from './api.js';
import { $, fill, h, row, show } from './dom.js';
import { clearErrors, lines, optionalInteger, showErrors, toLines, value } from './forms.js';

const form = $('webhook-form');
let botId;
/** The name being edited; undefined while creating. */
let editing;
let onList = () => undefined;

/** `listener(webhooks)` runs after every load, with the definitions as listed. */
export function initWebhooks(listener) {
  onList = listener;
  $('new-webhook').addEventListener('click', () => openForm());
  // Circuits open and close as calls go out: Refresh shows how they stand now.
  $('webhooks-refresh').addEventListener('click', () => void refresh());
  $('cancel-webhook').addEventListener('click', () => show(form, false));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void save();
  });
}

export async function loadWebhooks(bot) {
  botId = bot;
  show(form, false);
  await refresh();
}

async function refresh() {
  const error = $('webhooks-error');
  error.replaceChildren();
  try {
    const { webhooks } = await request('GET', botPath(botId, '/webhooks'));
    fill($('webhook-table').tBodies[0], webhooks.map(webhookRow));
    onList(webhooks);
  } catch (err) {
    error.textContent = err.message;
  }
}

function webhookRow(definition) {
  const headers = Object.keys(definition.headers ?? {}).map((name) => h('div', {}, `${name}: ***`));
  // No health for a URL whose origin holds a merge tag: with no fixed origin it has no circuit.
  const circuit = definition.health?.circuit ?? '—';
  const actions = [
    h('button', { type: 'button', onclick: () => openForm(definition) }, 'Edit'),
    h('button', { type: 'button', onclick: () => void remove(definition.name) }, 'Delete'),
  ];
  return row([definition.name, definition.method, definition.url, headers, circuit, actions], {
    'data-webhook': definition.name,
  });
}

function openForm(definition) {
  editing = definition?.name;
  clearErrors(form);
  $('webhook-form-title').textContent = definition ? `Edit ${definition.name}` : 'New webhook';
  const set = (name, text) => (form.elements.namedItem(name).value = text ?? '');
  set('name', definition?.name);
  form.elements.namedItem('name').disabled = Boolean(definition);
  set('method', definition?.method ?? 'GET');
  set('url', definition?.url);
  set('params', toLines(definition?.params, '='));
  // Values come back as ***, and *** sent back keeps the stored value.
  set('headers', toLines(definition?.headers, ':'));
  set('timeoutMs', definition?.timeoutMs);
  set('retry.attempts', definition?.retry?.attempts);
  set('retry.backoffMs', definition?.retry?.backoffMs);
  show(form, true);
  form.elements.namedItem(definition ? 'url' : 'name').focus();
}

async function save() {
  const errors = [];
  const body = {
    method: value(form, 'method'),
    url: value(form, 'url'),
    params: lines(form, 'params', '=', errors),
    headers: lines(form, 'headers', ':', errors),
    timeoutMs: optionalInteger(form, 'timeoutMs', errors),
  };
  const attempts = optionalInteger(form, 'retry.attempts', errors);
  const backoffMs = optionalInteger(form, 'retry.backoffMs', errors);
  if (attempts !== undefined || backoffMs !== undefined) body.retry = { attempts, backoffMs };
  if (editing === undefined) body.name = form.elements.namedItem('name').value;
  if (errors.length > 0) return showErrors(form, errors);
  try {
    if (editing === undefined) await request('POST', botPath(botId, '/webhooks'), body);
    else await request('PUT', webhookPath(botId, editing), body);
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    // A taken name is the name field's problem, whatever the message's first word.
    return showErrors(form, err.messages, err.status === 409 ? 'name' : undefined);
  }
  show(form, false);
  await refresh();
}

async function remove(name) {
  if (!window.confirm(`Delete webhook ${name}?`)) return;
  try {
    await request('DELETE', webhookPath(botId, name));
  } catch (err) {
    $('webhooks-error').textContent = err.message;
    return;
  }
  await refresh();
}
