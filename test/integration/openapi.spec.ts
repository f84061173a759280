import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { HookrunnerStack, startHookrunner } from '../support';

/*
 * The API describes itself: GET /openapi.json is the committed openapi.json, and GET /docs renders
 * it from assets the process serves itself. Both answer without a key while every /v1 route wants one.
 */
describe('the OpenAPI document', () => {
  let stack: HookrunnerStack;

  beforeAll(async () => {
    stack = await startHookrunner({ AUTH_DISABLED: 'false', API_KEYS: 'k-docs' });
  });
  afterAll(() => stack?.stop());

  it('is served without a key and equals the committed openapi.json', async () => {
    const reply = await fetch(`${stack.api.baseUrl}/openapi.json`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toContain('application/json');
    const committed = JSON.parse(readFileSync(resolve(__dirname, '../../openapi.json'), 'utf8'));
    expect(await reply.json()).toEqual(committed);
    expect((await stack.api.get('/v1/bots/b1/webhooks')).status).toBe(401);
  });

  it('is rendered at /docs from scripts and styles served by the app itself', async () => {
    const page = await fetch(`${stack.api.baseUrl}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]).filter((a) => !a.startsWith('data:'));
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) {
      expect(asset).not.toMatch(/^(https?:)?\/\//);
      const reply = await fetch(new URL(asset, page.url));
      expect([asset, reply.status]).toEqual([asset, 200]);
    }
    const init = await (await fetch(`${stack.api.baseUrl}/docs/swagger-ui-init.js`)).text();
    expect(init).toContain('"Hookrunner API"');
    expect(init).not.toMatch(/https?:\/\/(?!127\.0\.0\.1|localhost)[a-z0-9.-]+\.[a-z]{2,}\/[^"]*\.(js|css)/i);
  });
});
