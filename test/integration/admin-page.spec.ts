import type { Browser, Page } from 'puppeteer-core';
import { keys } from '@hookrunner/redis';
import { ADMIN_CSP } from '../../apps/api/src/admin/admin.controller';
import {
  AppProcess,
  EventCollector,
  pollUntil,
  SplitDeployment,
  startApp,
  startEndpoint,
  startSplitDeployment,
  TestEndpoint,
} from '../support';
import { launchChromium, screenshot, textOf, waitForText } from '../support/browser';

/*
 * The Webhooks page at GET /admin, driven in a real headless Chromium against a split deployment
 * (API, worker and results consumer as separate processes; the page talks only to the API). It
 * signs in, creates, edits and tests webhooks against the example server, watches an enqueued
 * call's event arrive live, opens a failed call and replays it, and checks that hostile names and
 * response bodies render as text. Each step leaves a screenshot under test/artifacts/admin-page/.
 */

const BOT = 'page-bot';
const KEY = 'page-key-3c9d1e';
const XSS_NAME = '<img src=x onerror=alert(1)>';
const XSS_BODY = '<h2 id="injected">hi</h2><img src=x onerror=alert(2)><script>alert(3)</script>';
const SHOTS = 'admin-page';
/** Attempts in the window before a circuit may open; the stack is given it, not left to the default. */
const CIRCUIT_MIN_ATTEMPTS = 10;

describe('the Webhooks page', () => {
  let deployment: SplitDeployment;
  let endpoint: TestEndpoint;
  /** A second origin, whose circuit the spec opens: the other webhooks' origins stay healthy. */
  let downEndpoint: TestEndpoint;
  let events: EventCollector;
  let browser: Browser;
  let page: Page;
  let base: string;
  let examples: AppProcess;
  let examplesUrl: string;
  /** Every alert, confirm and prompt the page raised; confirms are accepted. */
  const dialogs: string[] = [];
  const pageErrors: string[] = [];
  const cspViolations: string[] = [];
  /** Every request the page made, in order: the page must talk to the API and nothing else. */
  const requests: { method: string; url: string; body?: string }[] = [];
  let flakyHealthy = false;

  const send = async (method: string, path: string, body?: unknown, key: string | null = KEY) => {
    const headers: Record<string, string> = {};
    if (key !== null) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = res.headers.get('content-type')?.startsWith('application/json');
    return { status: res.status, headers: res.headers, text, body: json ? JSON.parse(text) : undefined };
  };
  const shot = (name: string) => screenshot(page, SHOTS, name);
  const click = async (selector: string) => {
    await page.waitForSelector(selector, { visible: true, timeout: 20_000 });
    await page.click(selector);
  };
  const fillField = async (selector: string, value: string) => {
    await page.waitForSelector(selector, { visible: true, timeout: 20_000 });
    await page.$eval(
      selector,
      (field, text) => {
        (field as unknown as { value: string }).value = text;
      },
      value,
    );
  };
  /** The attempt log's rows, each as its cells' texts (run, attempt, started, status, duration, excerpt). */
  const attemptRows = async (): Promise<string[][]> => {
    const texts = await page.$$eval('#attempt-table tbody td', (tds) => tds.map((td) => td.textContent ?? ''));
    return Array.from({ length: texts.length / 6 }, (_, i) => texts.slice(i * 6, i * 6 + 6));
  };
  /**
   * Expects the Test report shown to be what the API answers the same body: the body the page last
   * sent to POST …/test is sent again through the API, and the verdict, the errors, the request
   * line and body, and the response status shown are compared with its reply.
   */
  const expectTestAsTheApiAnswers = async (webhook: string, body: Record<string, unknown>) => {
    const path = `/v1/bots/${BOT}/webhooks/${encodeURIComponent(webhook)}/test`;
    const sent = requests.filter((request) => request.method === 'POST' && request.url.endsWith('/test')).at(-1);
    expect(decodeURIComponent(sent!.url)).toBe(decodeURIComponent(`${base}${path}`));
    expect(JSON.parse(sent!.body!)).toEqual(body);
    const answer = await send('POST', path, body);
    expect(answer.status).toBe(200);
    const report = answer.body;
    expect(await textOf(page, '#test-valid')).toBe(report.valid ? 'yes' : 'no');
    expect(await page.$$eval('#test-errors li', (items) => items.map((item) => item.textContent))).toEqual(
      report.errors ?? [],
    );
    const requestLines = (await textOf(page, '#test-request'))!.split('\n');
    expect(requestLines[0]).toBe(`${report.request.method} ${report.request.url}`);
    expect(requestLines.at(-1)).toBe(report.request.body ?? '');
    expect((await textOf(page, '#test-response'))!.split('\n', 1)[0]).toMatch(
      new RegExp(`^HTTP ${report.response.status} · \\d+ ms$`),
    );
  };
  /** A page of the bot's failed calls as the API lists them to the page (ten a page). */
  const failedPage = async (cursor?: string): Promise<{ callIds: string[]; nextCursor?: string }> => {
    const query = `status=failed&limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const { body } = await send('GET', `/v1/bots/${BOT}/calls?${query}`);
    return { callIds: (body.calls as { callId: string }[]).map((call) => call.callId), nextCursor: body.nextCursor };
  };
  /** Waits until the Failed calls table shows exactly these calls, in this order. */
  const waitForFailedRows = (callIds: string[]) =>
    pollUntil(
      async () => {
        const shown = await page.$$eval('#failed-table tbody tr', (rows) =>
          rows.map((tr) => tr.getAttribute('data-call')),
        );
        return JSON.stringify(shown) === JSON.stringify(callIds);
      },
      { timeoutMs: 20_000, message: `the failed calls table never showed ${callIds.join(', ')}` },
    );
  const disabled = (selector: string) =>
    page.$eval(selector, (button) => (button as unknown as { disabled: boolean }).disabled);
  const row = (table: string, attribute: string, value: string) => `#${table} tr[data-${attribute}="${value}"]`;
  const cells = async (selector: string): Promise<string[]> =>
    page.$$eval(`${selector} > td`, (tds) => tds.map((td) => td.textContent ?? ''));

  beforeAll(async () => {
    [deployment, downEndpoint, examples] = await Promise.all([
      startSplitDeployment({
        env: {
          AUTH_DISABLED: 'false',
          API_KEYS: `${KEY}:${BOT}|other-bot`,
          CIRCUIT_MIN_ATTEMPTS: String(CIRCUIT_MIN_ATTEMPTS),
        },
      }),
      startEndpoint(),
      // The example server stands in for a bot's webhook server: no role of the deployment, and no Redis.
      startApp('examples', {}),
    ]);
    ({ endpoint } = deployment);
    downEndpoint.reply('/down', 503, { error: 'down for good' });
    endpoint.reply('/html', 200, XSS_BODY, { headers: { 'content-type': 'text/html' } });
    endpoint.script('/flaky', (_req, res) => {
      const [status, body] = flakyHealthy
        ? [
            200,
            { responses: ['Back on <em>track</em>'], memory: { recovered: true }, user_attributes: { tier: 'gold' } },
          ]
        : [503, { error: 'maintenance <b>window</b>' }];
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    base = deployment.api.baseUrl;
    examplesUrl = `http://127.0.0.1:${examples.port}`;
    events = await deployment.subscribe(BOT);

    browser = await launchChromium();
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    page.on('dialog', (dialog) => {
      dialogs.push(`${dialog.type()}: ${dialog.message()}`);
      void (dialog.type() === 'confirm' ? dialog.accept() : dialog.dismiss());
    });
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    page.on('request', (request) =>
      requests.push({ method: request.method(), url: request.url(), body: request.postData() }),
    );
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([deployment?.stop(), examples?.stop(), downEndpoint?.close()]);
  });

  describe('over HTTP', () => {
    it('serves the page and its files with a policy that allows only its own origin', async () => {
      for (const path of ['/admin', '/admin/admin.js', '/admin/admin.css']) {
        const res = await send('GET', path, undefined, null);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-security-policy')).toBe(ADMIN_CSP);
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      }
      expect(ADMIN_CSP).toContain("default-src 'self'");
      expect(ADMIN_CSP).not.toMatch(/https?:|'unsafe-|\*/);
      expect((await send('GET', '/admin', undefined, null)).headers.get('content-type')).toBe(
        'text/html; charset=utf-8',
      );
      expect((await send('GET', '/admin/admin.js', undefined, null)).headers.get('content-type')).toBe(
        'text/javascript; charset=utf-8',
      );
      // Nothing but the files built beside the controller.
      for (const path of ['/admin/nope.js', '/admin/..%2Fadmin.controller.js', '/admin/%2e%2e%2f%2e%2e%2fmain.js']) {
        expect((await send('GET', path, undefined, null)).status).toBe(404);
      }
    });

    it('GET /v1/key says which bots a key may see, and 401 without one', async () => {
      expect((await send('GET', '/v1/key', undefined, null)).status).toBe(401);
      expect((await send('GET', '/v1/key', undefined, 'unknown-key')).status).toBe(401);
      expect((await send('GET', '/v1/key')).body).toEqual({ allBots: false, botIds: ['other-bot', BOT] });
    });

    it('keeps a stored header value that PUT sends back as ***, and refuses *** with nothing to keep', async () => {
      endpoint.reply('/echo', 200, { responses: ['ok'] });
      const definition = {
        method: 'POST',
        url: `${endpoint.url}/echo`,
        headers: { 'X-Secret': 'v1', 'X-Plain': 'p1' },
      };
      expect((await send('POST', '/v1/bots/other-bot/webhooks', { name: 'masked', ...definition })).status).toBe(201);
      const shown = await send('GET', '/v1/bots/other-bot/webhooks/masked');
      expect(shown.body.headers).toEqual({ 'x-secret': '***', 'x-plain': '***' });

      const replaced = await send('PUT', '/v1/bots/other-bot/webhooks/masked', {
        ...definition,
        headers: { ...shown.body.headers, 'x-plain': 'p2' },
      });
      expect(replaced.status).toBe(200);
      expect((await send('POST', '/v1/bots/other-bot/webhooks/masked/test', {})).status).toBe(200);
      expect(endpoint.requestsTo('/echo').at(-1)!.headers).toMatchObject({ 'x-secret': 'v1', 'x-plain': 'p2' });

      const unknown = await send('PUT', '/v1/bots/other-bot/webhooks/masked', {
        ...definition,
        headers: { 'X-New': '***' },
      });
      expect(unknown.status).toBe(400);
      expect(unknown.body.message).toBe('headers.x-new is ***, but there is no stored value to keep');
      const created = await send('POST', '/v1/bots/other-bot/webhooks', {
        name: 'masked-2',
        ...definition,
        headers: { 'X-Secret': '***' },
      });
      expect(created.status).toBe(400);
      expect(created.body.message).toBe('headers.x-secret is ***, but there is no stored value to keep');
    });
  });

  describe('in a browser', () => {
    it('refuses an unknown key, then signs in and offers only the bots the key may see', async () => {
      await page.goto(`${base}/admin`, { waitUntil: 'networkidle0' });
      await fillField('#api-key', 'not-the-key');
      await click('#sign-in-form button[type=submit]');
      await waitForText(page, '#sign-in-error', 'That API key was not accepted.');
      await shot('01-sign-in-refused');

      await page.type('#api-key', KEY);
      await click('#sign-in-form button[type=submit]');
      await page.waitForSelector('#bot-picker:not([hidden])');
      expect(await page.$$eval('#bot-list button', (buttons) => buttons.map((b) => b.textContent))).toEqual([
        'other-bot',
        BOT,
      ]);
      expect(await page.evaluate('sessionStorage.getItem("hookrunner.apiKey")')).toBe(KEY);
      await fillField('#bot-id', 'someone-elses-bot');
      await click('#bot-form button[type=submit]');
      await waitForText(page, '#bot-error', 'this API key may not act for bot someone-elses-bot');
      await shot('02-bot-picker');

      await click(`#bot-list button[data-bot="${BOT}"]`);
      await waitForText(page, '#bot-name', `Bot ${BOT}`);
      await waitForText(page, '#live-status', 'live');
    });

    it('shows the API’s validation messages by the fields, then creates a webhook on the example server', async () => {
      await click('#new-webhook');
      await fillField('#webhook-form [name=name]', 'random_number');
      await fillField('#webhook-form [name=url]', 'ftp://example.com/x');
      await fillField('#webhook-form [name="retry.attempts"]', '99');
      await fillField('#webhook-form [name=params]', 'min=1\nmax=6');
      await fillField('#webhook-form [name=headers]', 'X-Api-Token: s3cret-token');
      await click('#webhook-form button[type=submit]');
      await waitForText(page, '#webhook-form .field-error[data-for=url]', 'url must be an absolute http(s) URL');
      expect(await textOf(page, '#webhook-form .field-error[data-for="retry.attempts"]')).toBe(
        'retry.attempts must not be greater than 10',
      );
      expect(await textOf(page, '#webhook-form .field-error[data-for=name]')).toBe('');
      await shot('03-field-errors');

      await fillField('#webhook-form [name=url]', `${examplesUrl}/random_number`);
      await fillField('#webhook-form [name="retry.attempts"]', '2');
      await click('#webhook-form button[type=submit]');
      await page.waitForSelector(row('webhook-table', 'webhook', 'random_number'));
      const listed = (await send('GET', `/v1/bots/${BOT}/webhooks/random_number`)).body;
      expect(listed).toMatchObject({
        method: 'GET',
        params: { min: '1', max: '6' },
        headers: { 'x-api-token': '***' },
        retry: { attempts: 2 },
        // Nothing has called the example server yet: its circuit is closed.
        health: { circuit: 'closed', failureRatio: 0 },
      });
      expect((await cells(row('webhook-table', 'webhook', 'random_number'))).slice(0, 5)).toEqual([
        'random_number',
        'GET',
        `${examplesUrl}/random_number`,
        'x-api-token: ***',
        'closed',
      ]);
      expect(await page.content()).not.toContain('s3cret-token');
      await shot('04-webhook-created');
    });

    it('edits a webhook, keeping the header value it never showed', async () => {
      const sealedBefore = JSON.parse((await deployment.client.hget(keys.webhooks(BOT), 'random_number'))!).headers;
      await click(`${row('webhook-table', 'webhook', 'random_number')} button:first-of-type`);
      expect(await page.$eval('#webhook-form [name=headers]', (f) => (f as unknown as { value: string }).value)).toBe(
        'x-api-token: ***',
      );
      await fillField('#webhook-form [name=params]', 'min=1\nmax=3');
      await click('#webhook-form button[type=submit]');
      await page.waitForSelector('#webhook-form', { hidden: true });
      const stored = JSON.parse((await deployment.client.hget(keys.webhooks(BOT), 'random_number'))!);
      expect(stored.params).toEqual({ min: '1', max: '3' });
      expect(stored.headers).toEqual(sealedBefore);
    });

    it('presses Test and shows the request, the response and its verdict as POST …/test returns them', async () => {
      await page.select('#test-form [name=webhook]', 'random_number');
      await fillField('#test-form [name=userId]', 'tester');
      await fillField('#test-form [name=memory]', '{"topic": "dice"}');
      await click('#test-form button[type=submit]');
      await waitForText(page, '#test-valid', 'yes');
      const response = (await textOf(page, '#test-response'))!;
      expect(response).toMatch(/^HTTP 200 · \d+ ms\n/);
      expect(response).toMatch(/"Your random number is [123]"/);
      const request = (await textOf(page, '#test-request'))!;
      expect(request).toMatch(new RegExp(`^GET ${examplesUrl}/random_number\\?min=1&max=3\n`));
      expect(request).toContain('x-api-token: ***');
      expect(await page.$$eval('#test-errors li', (items) => items.length)).toBe(0);
      await expectTestAsTheApiAnswers('random_number', { userId: 'tester', memory: { topic: 'dice' } });
      await shot('05-test-passed');

      await fillField('#test-form [name=user]', '[1, 2]');
      await fillField('#test-form [name=sessionId]', 'not a session');
      await click('#test-form button[type=submit]');
      await waitForText(page, '#test-form .field-error[data-for=user]', /^user must be a JSON object/);
      await fillField('#test-form [name=user]', '');
      await click('#test-form button[type=submit]');
      await waitForText(page, '#test-form .field-error[data-for=sessionId]', /^sessionId must be 1-128 characters/);
      // Beside the field: exactly what the API answers that body.
      const refused = await send('POST', `/v1/bots/${BOT}/webhooks/random_number/test`, {
        userId: 'tester',
        sessionId: 'not a session',
        memory: { topic: 'dice' },
      });
      expect(refused.status).toBe(400);
      expect(await textOf(page, '#test-form .field-error[data-for=sessionId]')).toBe(refused.body.message.join(''));
      expect(await page.$eval('#test-result', (result) => (result as unknown as { hidden: boolean }).hidden)).toBe(
        true,
      );

      await fillField('#test-form [name=sessionId]', 'dice-session');
      await click('#test-form button[type=submit]');
      await page.waitForSelector('#test-result', { visible: true, timeout: 20_000 });
      expect(await textOf(page, '#test-form .field-error[data-for=sessionId]')).toBe('');
      await expectTestAsTheApiAnswers('random_number', {
        userId: 'tester',
        sessionId: 'dice-session',
        memory: { topic: 'dice' },
      });
      await fillField('#test-form [name=sessionId]', '');
    });

    it('shows an enqueued call’s event as it arrives', async () => {
      const enqueued = await send('POST', `/v1/bots/${BOT}/calls`, { webhook: 'random_number', userId: 'live-user' });
      expect(enqueued.status).toBe(202);
      const callId = enqueued.body.callId as string;
      const event = await events.waitFor(callId, 20_000);
      const selector = row('event-table', 'call', callId);
      await page.waitForSelector(selector, { timeout: 20_000 });
      expect((await cells(selector)).slice(1)).toEqual([
        'call.succeeded',
        `${callId.slice(0, 8)}…`,
        'random_number',
        'live-user',
        event.responses[0],
      ]);
      await shot('06-live-event');

      // Its call link opens the detail: the result and the memory the example webhook set.
      await click(`${selector} button.link`);
      await waitForText(page, '#call-summary dd[data-fact=Call]', callId);
      expect(await textOf(page, '#call-summary dd[data-fact=Status]')).toBe('succeeded');
      expect(JSON.parse((await textOf(page, '#call-result'))!)).toEqual({
        responses: event.responses,
        quickreplies: [],
      });
      expect(JSON.parse((await textOf(page, '#call-memory'))!)).toEqual(event.changes.memory);
      expect(JSON.parse((await textOf(page, '#call-user'))!)).toEqual({});
      expect((await attemptRows()).map((attempt) => attempt[3])).toEqual(['HTTP 200']);
    });

    it('shows a turn’s event with its turn id as text, after its calls’ events', async () => {
      const queued = await send('POST', `/v1/bots/${BOT}/turns`, {
        userId: 'turn-user',
        calls: [{ webhook: 'random_number' }, { webhook: 'random_number', params: { min: '7', max: '7' } }],
      });
      expect(queued.status).toBe(202);
      const { turnId, callIds } = queued.body as { turnId: string; callIds: string[] };
      const event = await events.waitForTurn(turnId, 20_000);
      const selector = `#event-table tr[data-turn="${turnId}"]`;
      await page.waitForSelector(selector, { timeout: 20_000 });
      expect((await cells(selector)).slice(1)).toEqual([
        'turn.completed',
        `turn ${turnId.slice(0, 8)}…`,
        'random_number, random_number',
        'turn-user',
        `${event.responses[0]} · Your random number is 7`,
      ]);
      expect(await page.$eval(`${selector} > td:nth-child(3) span`, (span) => span.getAttribute('title'))).toBe(turnId);
      expect(await page.$eval(selector, (tr) => tr.className)).toBe('succeeded');
      // Its calls' rows sit just below it: each call's event goes out before the turn's.
      const newest = await page.$$eval('#event-table tbody tr', (rows) =>
        rows.slice(0, 3).map((tr) => tr.getAttribute('data-turn') ?? tr.getAttribute('data-call')),
      );
      expect(newest[0]).toBe(turnId);
      expect(newest.slice(1).sort()).toEqual([...callIds].sort());
      await shot('07-live-turn');
    });

    it('renders a hostile webhook name and an HTML response body as text', async () => {
      await click('#new-webhook');
      await fillField('#webhook-form [name=name]', XSS_NAME);
      await page.select('#webhook-form [name=method]', 'POST');
      await fillField('#webhook-form [name=url]', `${endpoint.url}/html`);
      await fillField('#webhook-form [name="retry.attempts"]', '1');
      await click('#webhook-form button[type=submit]');
      const selector = row('webhook-table', 'webhook', XSS_NAME);
      await page.waitForSelector(selector);
      expect((await cells(selector))[0]).toBe(XSS_NAME);

      await page.select('#test-form [name=webhook]', XSS_NAME);
      await click('#test-form button[type=submit]');
      await waitForText(page, '#test-valid', 'no');
      expect(await textOf(page, '#test-response')).toContain(XSS_BODY);
      expect(await page.$$eval('#test-errors li', (items) => items.length)).toBeGreaterThan(0);
      await expectTestAsTheApiAnswers(XSS_NAME, { userId: 'tester', memory: { topic: 'dice' } });

      // The call fails (the body is not JSON): its name and error reach the live and failed tables as text.
      const enqueued = await send('POST', `/v1/bots/${BOT}/calls`, { webhook: XSS_NAME, userId: 'xss-user' });
      const callId = enqueued.body.callId as string;
      await page.waitForSelector(row('event-table', 'call', callId), { timeout: 20_000 });
      await page.waitForSelector(row('failed-table', 'call', callId), { timeout: 20_000 });
      expect((await cells(row('event-table', 'call', callId)))[3]).toBe(XSS_NAME);
      expect((await cells(row('failed-table', 'call', callId)))[2]).toBe(XSS_NAME);
      await shot('08-xss-as-text');

      expect(await page.$$eval('img', (images) => images.length)).toBe(0);
      expect(await page.$('#injected')).toBeNull();
      expect(await page.$$eval('script', (scripts) => scripts.map((s) => s.getAttribute('src')))).toEqual([
        '/admin/admin.js',
      ]);
    });

    it('opens a failed call with its attempt log, and replays it', async () => {
      await send('POST', `/v1/bots/${BOT}/webhooks`, {
        name: 'flaky',
        method: 'POST',
        url: `${endpoint.url}/flaky`,
        retry: { attempts: 2, backoffMs: 10 },
      });
      const enqueued = await send('POST', `/v1/bots/${BOT}/calls`, { webhook: 'flaky', userId: 'flaky-user' });
      const callId = enqueued.body.callId as string;
      const failedRow = row('failed-table', 'call', callId);
      await page.waitForSelector(failedRow, { timeout: 20_000 });
      expect((await cells(failedRow)).slice(1, 5)).toEqual([
        `${callId.slice(0, 8)}…`,
        'flaky',
        'flaky-user',
        'endpoint answered HTTP 503',
      ]);

      await click(`${failedRow} button:first-of-type`);
      await waitForText(page, '#call-summary dd[data-fact=Status]', 'failed');
      const attempts = await attemptRows();
      expect(attempts).toHaveLength(2);
      for (const [i, attempt] of attempts.entries()) {
        expect(attempt[0]).toBe('0');
        expect(attempt[1]).toBe(String(i + 1));
        expect(attempt[3]).toBe('HTTP 503');
        expect(attempt[4]).toMatch(/^\d+ ms$/);
        expect(attempt[5]).toBe('{"error":"maintenance <b>window</b>"}');
      }
      expect(await textOf(page, '#call-result')).toBe('(none)');
      await shot('09-failed-call');

      flakyHealthy = true;
      await click('#call-retry');
      await waitForText(page, '#call-summary dd[data-fact=Status]', 'succeeded');
      // The "queued again" note goes once the replay's event is in.
      await waitForText(page, '#call-retry-status', '');
      await page.waitForSelector(`${row('event-table', 'call', callId)}.succeeded`);
      expect(await textOf(page, '#call-result')).toBe(
        JSON.stringify({ responses: ['Back on <em>track</em>'], quickreplies: [] }, null, 2),
      );
      expect(JSON.parse((await textOf(page, '#call-memory'))!)).toEqual({ recovered: true });
      expect(JSON.parse((await textOf(page, '#call-user'))!)).toEqual({ tier: 'gold' });
      expect((await attemptRows()).map((attempt) => attempt[0])).toEqual(['0', '0', '1']);
      expect(await page.$(failedRow)).toBeNull();
      await shot('10-replayed');
    });

    it('pages through failed calls ten at a time, and retries one from its row', async () => {
      let goneBack = false;
      endpoint.script('/gone', (_req, res) => {
        const [status, body] = goneBack ? [200, { responses: ['Found it again'] }] : [410, { error: 'gone' }];
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
      await send('POST', `/v1/bots/${BOT}/webhooks`, {
        name: 'gone',
        method: 'POST',
        url: `${endpoint.url}/gone`,
        retry: { attempts: 1 },
      });
      const batch = await send('POST', `/v1/bots/${BOT}/calls/batch`, {
        calls: Array.from({ length: 11 }, (_, i) => ({ webhook: 'gone', userId: `pager-${i + 1}` })),
      });
      expect(batch.status).toBe(202);
      const callIds = (batch.body.calls as { callId: string }[]).map((call) => call.callId);
      await events.waitForAll(callIds, 30_000);

      // The API's own pages, newest first, for the page's to be held against: these eleven and the
      // hostile call before them (the flaky one was replayed to success).
      const firstPage = await failedPage();
      const secondPage = await failedPage(firstPage.nextCursor);
      expect(firstPage.callIds).toHaveLength(10);
      expect(secondPage.callIds).toHaveLength(2);
      expect(secondPage.nextCursor).toBeUndefined();
      const listed = [...firstPage.callIds, ...secondPage.callIds];
      expect(listed.filter((id) => callIds.includes(id)).sort()).toEqual([...callIds].sort());
      const [hostile] = listed.filter((id) => !callIds.includes(id));
      expect((await send('GET', `/v1/calls/${hostile}`)).body.webhook).toBe(XSS_NAME);

      // The newest page follows every call.failed event: it ends as the API's first page.
      await waitForFailedRows(firstPage.callIds);
      expect(await disabled('#failed-newest')).toBe(true);
      expect(await disabled('#failed-older')).toBe(false);
      const userOf = (callId: string) => `pager-${callIds.indexOf(callId) + 1}`;
      for (const callId of firstPage.callIds) {
        expect((await cells(row('failed-table', 'call', callId))).slice(1, 5)).toEqual([
          `${callId.slice(0, 8)}…`,
          'gone',
          userOf(callId),
          'endpoint answered HTTP 410',
        ]);
      }
      await shot('11-failed-newest-page');

      await click('#failed-older');
      await waitForFailedRows(secondPage.callIds);
      expect(await disabled('#failed-newest')).toBe(false);
      expect(await disabled('#failed-older')).toBe(true);
      await shot('12-failed-older-page');

      await click('#failed-newest');
      await waitForFailedRows(firstPage.callIds);
      expect(await disabled('#failed-newest')).toBe(true);
      expect(await disabled('#failed-older')).toBe(false);

      // Retry on the newest call's own row: it leaves the list, its detail opens and ends succeeded.
      goneBack = true;
      const retried = firstPage.callIds[0];
      const retriedRow = row('failed-table', 'call', retried);
      expect(await page.$$eval(`${retriedRow} button`, (buttons) => buttons.map((b) => b.textContent))).toEqual([
        'Open',
        'Retry',
      ]);
      await click(`${retriedRow} button:nth-of-type(2)`);
      await page.waitForSelector(retriedRow, { hidden: true });
      await waitForText(page, '#call-summary dd[data-fact=Call]', retried);
      await waitForText(page, '#call-summary dd[data-fact=Status]', 'succeeded');
      await waitForText(page, '#call-retry-status', '');
      const replayedEvent = row('event-table', 'call', retried);
      await page.waitForSelector(`${replayedEvent}.succeeded`, { timeout: 20_000 });
      expect((await cells(`${replayedEvent}.succeeded`)).slice(1)).toEqual([
        'call.succeeded',
        `${retried.slice(0, 8)}…`,
        'gone',
        userOf(retried),
        'Found it again',
      ]);
      expect((await attemptRows()).map((attempt) => [attempt[0], attempt[3]])).toEqual([
        ['0', 'HTTP 410'],
        ['1', 'HTTP 200'],
      ]);
      expect(await page.$eval('#call-retry', (button) => (button as unknown as { hidden: boolean }).hidden)).toBe(true);
      // The eleven still failed fill the newest page as the API lists them.
      const after = await failedPage();
      expect(after.callIds).not.toContain(retried);
      expect(after.callIds).toEqual([...firstPage.callIds.slice(1), secondPage.callIds[0]]);
      await waitForFailedRows(after.callIds);
      await shot('13-retried-from-list');
    });

    it('shows a webhook’s circuit open once its origin keeps failing, and the others closed', async () => {
      await send('POST', `/v1/bots/${BOT}/webhooks`, {
        name: 'down',
        method: 'POST',
        url: `${downEndpoint.url}/down`,
        retry: { attempts: 1 },
      });
      await click('#webhooks-refresh');
      await waitForText(page, `${row('webhook-table', 'webhook', 'down')} > td:nth-child(5)`, 'closed');

      // CIRCUIT_MIN_ATTEMPTS attempts, all of them 503s
      // (over CIRCUIT_FAILURE_PERCENT), open the circuit of the origin no other webhook uses.
      const batch = await send('POST', `/v1/bots/${BOT}/calls/batch`, {
        calls: Array.from({ length: CIRCUIT_MIN_ATTEMPTS }, (_, i) => ({ webhook: 'down', userId: `down-${i + 1}` })),
      });
      expect(batch.status).toBe(202);
      const failed = await events.waitForAll(
        (batch.body.calls as { callId: string }[]).map((call) => call.callId),
        30_000,
      );
      expect(failed.map((event) => event.error?.message)).toEqual(
        Array(CIRCUIT_MIN_ATTEMPTS).fill('endpoint answered HTTP 503'),
      );
      // The attempts' outcomes reach the shared circuit just after the calls end.
      const health = await pollUntil(
        async () => {
          const { health } = (await send('GET', `/v1/bots/${BOT}/webhooks/down`)).body;
          return health?.circuit === 'open' ? health : undefined;
        },
        { timeoutMs: 10_000, message: 'the circuit of the down origin never opened' },
      );
      expect(health).toEqual({ circuit: 'open', failureRatio: 1, openedAt: expect.any(String) });

      await click('#webhooks-refresh');
      await waitForText(page, `${row('webhook-table', 'webhook', 'down')} > td:nth-child(5)`, 'open');
      const circuits = await page.$$eval('#webhook-table tbody tr', (rows) =>
        rows.map((tr) => [tr.getAttribute('data-webhook'), tr.children[4].textContent]),
      );
      expect(Object.fromEntries(circuits)).toEqual({
        [XSS_NAME]: 'closed',
        down: 'open',
        flaky: 'closed',
        gone: 'closed',
        random_number: 'closed',
      });
      await shot('14-circuit-open');
    });

    it('deletes a webhook after confirming', async () => {
      const selector = row('webhook-table', 'webhook', XSS_NAME);
      await click(`${selector} button:nth-of-type(2)`);
      await page.waitForSelector(selector, { hidden: true });
      expect(dialogs).toEqual([`confirm: Delete webhook ${XSS_NAME}?`]);
      expect((await send('GET', `/v1/bots/${BOT}/webhooks/${encodeURIComponent(XSS_NAME)}`)).status).toBe(404);
      expect(await page.$$eval('#test-form option', (options) => options.map((o) => o.textContent))).toEqual([
        'down',
        'flaky',
        'gone',
        'random_number',
      ]);
    });

    it('signs out, forgetting the key', async () => {
      await click('#sign-out');
      await page.waitForSelector('#sign-in:not([hidden])');
      expect(await page.evaluate('sessionStorage.getItem("hookrunner.apiKey")')).toBeNull();
      await shot('15-signed-out');
    });

    it('raised no dialog but the delete confirmation, no script error and no policy violation', () => {
      expect(dialogs).toEqual([`confirm: Delete webhook ${XSS_NAME}?`]);
      expect(pageErrors).toEqual([]);
      expect(cspViolations).toEqual([]);
    });

    it('asked nothing of any server but the API', () => {
      expect(requests.length).toBeGreaterThan(0);
      expect(requests.filter((request) => !request.url.startsWith(`${base}/`))).toEqual([]);
    });
  });
});
