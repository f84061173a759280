// The page's only way out: the Hookrunner /v1 API on this origin, with the key from sessionStorage.

const KEY_ITEM = 'hookrunner.apiKey';

export const session = {
  get key() {
    return sessionStorage.getItem(KEY_ITEM);
  },
  save(key) {
    sessionStorage.setItem(KEY_ITEM, key);
  },
  clear() {
    sessionStorage.removeItem(KEY_ITEM);
  },
};

/** An error reply; `messages` are the API's messages, one per broken rule. */
export class ApiError extends Error {
  constructor(status, body) {
    const messages = messagesOf(body, status);
    super(messages.join('; '));
    this.status = status;
    this.messages = messages;
  }
}

function messagesOf(body, status) {
  const message = body && typeof body === 'object' ? body.message : undefined;
  if (Array.isArray(message)) return message.map(String);
  if (typeof message === 'string') return [message];
  return [`the API answered ${status}`];
}

export function authHeaders() {
  const key = session.key;
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** Calls the API; resolves with the parsed body, throws ApiError on any non-2xx. */
export async function request(method, path, body) {
  const headers = authHeaders();
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
  });
  const text = await response.text();
  let parsed;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    parsed = text;
  }
  if (!response.ok) {
    // Any 401 means the key no longer works: the page goes back to sign-in.
    if (response.status === 401) window.dispatchEvent(new CustomEvent('hookrunner:unauthorized'));
    throw new ApiError(response.status, parsed);
  }
  return parsed;
}

export const botPath = (botId, rest = '') => `/v1/bots/${encodeURIComponent(botId)}${rest}`;
export const webhookPath = (botId, name, rest = '') => botPath(botId, `/webhooks/${encodeURIComponent(name)}${rest}`);
export const callPath = (callId, rest = '') => `/v1/calls/${encodeURIComponent(callId)}${rest}`;
