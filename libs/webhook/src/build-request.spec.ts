import fc from 'fast-check';
import type { WebhookCallJob } from '@hookrunner/contracts';
import { buildRequest } from './build-request';
import type { MergeContext } from './merge-tags';

const ctx: MergeContext = {
  memory: { city: 'São Paulo & Rio', id: 'a/b?c', evil: 'x\r\nx-injected: yes', prefs: { lang: 'pt' }, n: 7 },
  user: { name: 'Ada Lovelace', email: 'ada@example.com' },
};
const identity = { callId: 'call-123', userAgent: 'Hookrunner/1.0' };

function request(overrides: Partial<WebhookCallJob['request']>): WebhookCallJob['request'] {
  return { method: 'GET', url: 'https://api.test/hook', params: {}, headers: {}, timeoutMs: 1000, ...overrides };
}

describe(buildRequest.name, () => {
  const sut = buildRequest;

  describe('url', () => {
    it('encodes values rendered into the url', () => {
      const out = sut(request({ url: 'https://api.test/users/{{memory.id}}/{{user.email}}' }), ctx, identity);
      expect(out.url).toBe('https://api.test/users/a%2Fb%3Fc/ada%40example.com');
    });

    it('leaves a GET url untouched when there are no params', () => {
      expect(sut(request({ url: 'https://api.test/hook?a=1&b=%20#frag' }), ctx, identity).url).toBe(
        'https://api.test/hook?a=1&b=%20#frag',
      );
    });
  });

  describe('GET', () => {
    it('appends rendered params to the query string', () => {
      const out = sut(request({ params: { city: '{{memory.city}}', who: '{{user.name}}' } }), ctx, identity);
      expect(out.url).toBe('https://api.test/hook?city=S%C3%A3o+Paulo+%26+Rio&who=Ada+Lovelace');
      expect(new URL(out.url).searchParams.get('city')).toBe('São Paulo & Rio');
    });

    it('keeps the existing query, its order and the fragment', () => {
      const out = sut(request({ url: 'https://api.test/hook?z=9&a=1#frag', params: { m: '2' } }), ctx, identity);
      expect(out.url).toBe('https://api.test/hook?z=9&a=1&m=2#frag');
    });

    it('keeps both values when a param repeats a name from the url', () => {
      const out = sut(request({ url: 'https://api.test/hook?a=1', params: { a: '2' } }), ctx, identity);
      expect(out.url).toBe('https://api.test/hook?a=1&a=2');
      expect(new URL(out.url).searchParams.getAll('a')).toEqual(['1', '2']);
    });

    it('encodes &, =, spaces and unicode in names and values', () => {
      const out = sut(request({ params: { 'k&=y': 'a=b&c d', emoji: '😀€' } }), ctx, identity);
      const query = new URL(out.url).searchParams;
      expect([...query]).toEqual([
        ['k&=y', 'a=b&c d'],
        ['emoji', '😀€'],
      ]);
    });

    it('renders objects in params as JSON and unknown keys as empty', () => {
      const out = sut(request({ params: { prefs: '{{memory.prefs}}', gone: '{{memory.gone}}' } }), ctx, identity);
      expect(out.url).toBe('https://api.test/hook?prefs=%7B%22lang%22%3A%22pt%22%7D&gone=');
    });

    it('has neither body nor content-type', () => {
      const out = sut(request({ params: { a: '1' }, headers: { 'Content-Type': 'text/plain' } }), ctx, identity);
      expect(out.method).toBe('GET');
      expect(out.body).toBeUndefined();
      expect(out.headers).not.toHaveProperty('content-type');
    });

    it('rejects a url that is not absolute once params must be appended', () => {
      expect(() => sut(request({ url: '/relative', params: { a: '1' } }), ctx, identity)).toThrow('Invalid URL');
    });

    it('round-trips any params through the query string', () => {
      const params = fc.dictionary(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }));
      fc.assert(
        fc.property(params, (p) => {
          const withoutTags = Object.fromEntries(Object.entries(p).filter(([, v]) => !v.includes('{{')));
          const out = sut(request({ url: 'https://api.test/hook?first=1', params: withoutTags }), ctx, identity);
          const query = [...new URL(out.url).searchParams];
          // The query is UTF-8: a lone surrogate arrives as U+FFFD.
          const wellFormed = (s: string) => Buffer.from(s).toString();
          expect(query).toEqual([
            ['first', '1'],
            ...Object.entries(withoutTags).map(([k, v]) => [wellFormed(k), wellFormed(v)]),
          ]);
        }),
      );
    });
  });

  describe('POST', () => {
    it('sends rendered params as a JSON object', () => {
      const out = sut(
        request({ method: 'POST', params: { city: '{{memory.city}}', n: '{{memory.n}}', raw: 'a&b=c' } }),
        ctx,
        identity,
      );
      expect(out.method).toBe('POST');
      expect(out.url).toBe('https://api.test/hook');
      expect(JSON.parse(out.body!)).toEqual({ city: 'São Paulo & Rio', n: '7', raw: 'a&b=c' });
      expect(out.headers['content-type']).toBe('application/json');
    });

    it('sends an empty object for empty params', () => {
      expect(sut(request({ method: 'POST' }), ctx, identity).body).toBe('{}');
    });

    it('sends JSON whatever a definition says the content type is', () => {
      const out = sut(request({ method: 'POST', headers: { 'Content-Type': 'text/plain' } }), ctx, identity);
      expect(out.headers['content-type']).toBe('application/json');
    });
  });

  describe('headers', () => {
    it('renders values without encoding and lower-cases names', () => {
      const out = sut(request({ headers: { 'X-Who': '{{user.name}} <{{user.email}}>' } }), ctx, identity);
      expect(out.headers).toEqual({
        'x-who': 'Ada Lovelace <ada@example.com>',
        accept: 'application/json',
        'user-agent': 'Hookrunner/1.0',
        'idempotency-key': 'call-123',
      });
    });

    it('lets user-agent and idempotency-key win over the definition', () => {
      const out = sut(request({ headers: { 'User-Agent': 'spoof', 'IDEMPOTENCY-KEY': 'other' } }), ctx, identity);
      expect(out.headers['user-agent']).toBe('Hookrunner/1.0');
      expect(out.headers['idempotency-key']).toBe('call-123');
    });

    it('lets a definition choose its own accept', () => {
      expect(sut(request({ headers: { Accept: 'text/plain' } }), ctx, identity).headers.accept).toBe('text/plain');
    });

    it('strips CR and LF so a memory value cannot inject a header', () => {
      const out = sut(request({ headers: { 'X-Note': 'a {{memory.evil}} b' } }), ctx, identity);
      expect(out.headers['x-note']).toBe('a xx-injected: yes b');
      expect(out.headers).not.toHaveProperty('x-injected');
    });

    it('never lets a control character other than tab through', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary' }), (value) => {
          const out = sut(
            request({ headers: { 'x-v': '{{memory.v}}' } }),
            { memory: { v: value }, user: {} },
            identity,
          );
          expect(out.headers['x-v']).not.toMatch(/[\x00-\x08\x0a-\x1f\x7f]/);
        }),
      );
    });
  });
});
