// The Webhooks page: sign in with an API key, pick a bot, then its webhooks, tests, calls and events.

import { ApiError, request, session } from './api.js';
import { initCalls, loadCalls, openCall, refreshCall, refreshFailed } from './calls.js';
import { $, fill, h, show } from './dom.js';
import { startLive, stopLive } from './live.js';
import { initTester, resetTester, setTestWebhooks } from './tester.js';
import { initWebhooks, loadWebhooks } from './webhooks.js';

const BOT_ID = /^[A-Za-z0-9\-_.:]{1,128}$/;
const BOT_ITEM = 'hookrunner.botId';

function showSignIn(message = '') {
  stopLive();
  show($('sign-in'), true);
  show($('bot-picker'), false);
  show($('bot'), false);
  show($('sign-out'), false);
  show($('change-bot'), false);
  $('bot-name').textContent = '';
  $('sign-in-error').textContent = message;
  $('api-key').value = '';
}

/** Asks the API what the key may see; an unknown key goes back to sign-in with a message. */
async function signIn() {
  let scope;
  try {
    scope = await request('GET', '/v1/key');
  } catch (err) {
    session.clear();
    showSignIn(err instanceof ApiError && err.status === 401 ? 'That API key was not accepted.' : err.message);
    return;
  }
  show($('sign-in'), false);
  show($('sign-out'), true);
  showBotPicker(scope);
  const last = sessionStorage.getItem(BOT_ITEM);
  if (last && (scope.allBots || scope.botIds.includes(last))) openBot(last);
}

function showBotPicker(scope) {
  stopLive();
  show($('bot'), false);
  show($('change-bot'), false);
  $('bot-name').textContent = '';
  $('bot-scope').textContent = scope.allBots
    ? 'This key may act for every bot: enter a bot id.'
    : 'This key may act for these bots:';
  const choices = scope.allBots ? [] : scope.botIds;
  fill(
    $('bot-list'),
    choices.map((id) => h('li', {}, h('button', { type: 'button', 'data-bot': id, onclick: () => openBot(id) }, id))),
  );
  $('bot-picker').dataset.scope = JSON.stringify(scope);
  show($('bot-picker'), true);
}

function openBot(botId) {
  const scope = JSON.parse($('bot-picker').dataset.scope);
  if (!BOT_ID.test(botId)) {
    $('bot-error').textContent = "botId must be 1-128 characters of letters, digits, '-', '_', '.', ':'";
    return;
  }
  if (!scope.allBots && !scope.botIds.includes(botId)) {
    $('bot-error').textContent = `this API key may not act for bot ${botId}`;
    return;
  }
  $('bot-error').textContent = '';
  sessionStorage.setItem(BOT_ITEM, botId);
  show($('bot-picker'), false);
  show($('change-bot'), true);
  $('bot-name').textContent = `Bot ${botId}`;
  show($('bot'), true);
  resetTester(botId);
  const onEvent = (event) => {
    refreshCall(event.callId);
    if (event.type === 'call.failed') refreshFailed();
  };
  startLive(botId, onEvent, (callId) => void openCall(callId));
  void loadWebhooks(botId);
  void loadCalls(botId);
}

function init() {
  initWebhooks(setTestWebhooks);
  initTester();
  initCalls();
  $('sign-in-form').addEventListener('submit', (event) => {
    event.preventDefault();
    session.save($('api-key').value.trim());
    void signIn();
  });
  $('bot-form').addEventListener('submit', (event) => {
    event.preventDefault();
    openBot($('bot-id').value.trim());
  });
  $('change-bot').addEventListener('click', () => {
    sessionStorage.removeItem(BOT_ITEM);
    showBotPicker(JSON.parse($('bot-picker').dataset.scope));
  });
  $('sign-out').addEventListener('click', () => {
    session.clear();
    sessionStorage.removeItem(BOT_ITEM);
    showSignIn();
  });
  window.addEventListener('hookrunner:unauthorized', () => {
    session.clear();
    showSignIn('The API no longer accepts this key: sign in again.');
  });
  if (session.key !== null) void signIn();
  else showSignIn();
}

init();
