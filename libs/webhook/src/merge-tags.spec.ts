import fc from 'fast-check';
import type { WebhookCallJob } from '@hookrunner/contracts';
import { type MergeContext, renderMergeTags, usesMergeTags } from './merge-tags';

const ctx: MergeContext = {
  memory: {
    name: 'Ada',
    'favourite-thing': 'tea',
    'a.b': 'flat',
    nested: { c: { d: 'deep' } },
    'ns:key_1': 'colon',
    count: 3,
    ok: false,
    none: null,
    list: [1, 'two'],
    obj: { x: 1, y: [true] },
    tag: '{{memory.name}}',
    spaced: 'a b&c=d/é',
  },
  user: { email: 'ada@example.com', name: 'Lovelace' },
};

/** A well-formed tag, as the merge-tag grammar defines one. */
const WELL_FORMED_TAG = /\{\{\s*(memory|user)\.[A-Za-z0-9\-_.:]+\s*\}\}/;

describe(renderMergeTags.name, () => {
  const sut = renderMergeTags;

  it('replaces memory and user tags', () => {
    expect(sut('Hi {{memory.name}} {{user.name}} <{{user.email}}>', ctx)).toBe('Hi Ada Lovelace <ada@example.com>');
  });

  it('allows whitespace inside the braces', () => {
    expect(sut('{{ memory.name }}|{{memory.name  }}|{{\tuser.name}}', ctx)).toBe('Ada|Ada|Lovelace');
  });

  it('accepts keys with -, _, . and :', () => {
    expect(sut('{{memory.favourite-thing}} {{memory.ns:key_1}}', ctx)).toBe('tea colon');
  });

  it('looks a dotted key up as a flat key first, then as a path', () => {
    expect(sut('{{memory.a.b}}', ctx)).toBe('flat');
    expect(sut('{{memory.nested.c.d}}', ctx)).toBe('deep');
    expect(sut('{{memory.nested.c.missing}}|{{memory.name.length}}', ctx)).toBe('|');
  });

  it('renders an unknown key as the empty string', () => {
    expect(sut('[{{memory.missing}}][{{user.missing}}]', ctx)).toBe('[][]');
  });

  it('does not reach inherited properties', () => {
    expect(sut('[{{memory.constructor}}][{{user.toString}}][{{memory.__proto__}}]', ctx)).toBe('[][][]');
  });

  it('formats numbers, booleans, null, arrays and objects', () => {
    expect(sut('{{memory.count}} {{memory.ok}} [{{memory.none}}]', ctx)).toBe('3 false []');
    expect(sut('{{memory.list}} {{memory.obj}}', ctx)).toBe('[1,"two"] {"x":1,"y":[true]}');
    expect(sut('[{{memory.u}}]', { memory: { u: undefined }, user: {} })).toBe('[]');
  });

  it('encodes substituted values only, never the template', () => {
    expect(sut('https://x.test/a b?q={{memory.spaced}}&n={{user.name}}', ctx, encodeURIComponent)).toBe(
      'https://x.test/a b?q=a%20b%26c%3Dd%2F%C3%A9&n=Lovelace',
    );
  });

  it('leaves anything that is not a well-formed tag as is', () => {
    const text = '{{foo}} {{memory.}} {{memory}} {memory.name} {{ session.x }} {{memory.a b}} {{memory.name}';
    expect(sut(text, ctx)).toBe(text);
  });

  it('renders a single pass: a value that looks like a tag stays literal', () => {
    expect(sut('{{memory.tag}}', ctx)).toBe('{{memory.name}}');
  });

  it('never throws and leaves tag-free strings unchanged', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const rendered = sut(text, ctx);
        if (!WELL_FORMED_TAG.test(text)) expect(rendered).toBe(text);
      }),
    );
  });

  it('renders exactly the stored value of any valid key', () => {
    const key = fc.stringMatching(/^[A-Za-z0-9\-_.:]{1,20}$/);
    fc.assert(
      fc.property(key, fc.string({ unit: 'binary' }), (k, value) => {
        expect(sut(`<{{memory.${k}}}>`, { memory: { [k]: value }, user: {} })).toBe(`<${value}>`);
      }),
    );
  });
});

describe(usesMergeTags.name, () => {
  const sut = usesMergeTags;
  const request = (overrides: Partial<WebhookCallJob['request']>): WebhookCallJob['request'] => ({
    method: 'GET',
    url: 'https://x.test/',
    params: {},
    headers: {},
    timeoutMs: 1000,
    ...overrides,
  });

  it('reports nothing for a request without tags', () => {
    expect(sut(request({ params: { a: '{{foo}}' }, headers: { b: 'c' } }))).toEqual({ memory: false, user: false });
  });

  it('looks at the url', () => {
    expect(sut(request({ url: 'https://x.test/{{memory.id}}' }))).toEqual({ memory: true, user: false });
  });

  it('looks at param values', () => {
    expect(sut(request({ params: { q: '{{ user.name }}' } }))).toEqual({ memory: false, user: true });
  });

  it('looks at header values', () => {
    expect(sut(request({ headers: { authorization: 'Bearer {{memory.token}} {{user.id}}' } }))).toEqual({
      memory: true,
      user: true,
    });
  });

  it('ignores param and header names', () => {
    expect(sut(request({ params: { '{{memory.a}}': 'x' }, headers: { '{{user.a}}': 'y' } }))).toEqual({
      memory: false,
      user: false,
    });
  });
});
