import fc from 'fast-check';
import { describeBodyTooLarge, MAX_REPLY_BYTES, ReplyTooLargeError, validateReply } from './validate-reply';
import { FORBIDDEN_KEYS, inspectJson } from './inspect-json';

describe(validateReply.name, () => {
  const sut = validateReply;
  const errorsOf = (body: string) => {
    const result = sut(body);
    if (result.ok) throw new Error(`expected errors for ${body}`);
    return result.errors;
  };

  it('accepts a full reply', () => {
    const body = JSON.stringify({
      responses: ['Hi', 'there'],
      quickreplies: ['yes', 'no'],
      memory: { a: 1, nested: { b: [2] } },
      user_attributes: { plan: 'pro' },
    });
    expect(sut(body)).toEqual({
      ok: true,
      reply: {
        responses: ['Hi', 'there'],
        quickreplies: ['yes', 'no'],
        memory: { a: 1, nested: { b: [2] } },
        user_attributes: { plan: 'pro' },
      },
    });
  });

  it.each(['responses', 'quickreplies', 'memory', 'user_attributes'])('accepts %s alone and fills the rest', (key) => {
    const value = key === 'responses' || key === 'quickreplies' ? [] : {};
    expect(sut(JSON.stringify({ [key]: value }))).toEqual({
      ok: true,
      reply: { responses: [], quickreplies: [], memory: {}, user_attributes: {} },
    });
  });

  it('ignores other top-level keys', () => {
    expect(sut('{"responses":["x"],"extra":{"__proto__":1},"status":"ok"}')).toEqual({
      ok: true,
      reply: { responses: ['x'], quickreplies: [], memory: {}, user_attributes: {} },
    });
  });

  it.each([['not json'], [''], ['{"responses":'], ['{responses: []}']])('rejects invalid JSON: %j', (body) => {
    const errors = errorsOf(body);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^body is not valid JSON: \S/);
  });

  it('keeps the JSON reason short', () => {
    const [error] = errorsOf(`x${'a'.repeat(10_000)}`);
    expect(error.length).toBeLessThanOrEqual('body is not valid JSON: '.length + 100);
  });

  it.each([
    ['[]', 'array'],
    ['"hi"', 'string'],
    ['42', 'number'],
    ['null', 'null'],
    ['true', 'boolean'],
  ])('rejects %s as not an object', (body, kind) => {
    expect(errorsOf(body)).toEqual([`body must be a JSON object, got ${kind}`]);
  });

  it('rejects an object without any reply key', () => {
    const message = 'body must contain at least one of responses, memory, user_attributes, quickreplies';
    expect(errorsOf('{}')).toEqual([message]);
    expect(errorsOf('{"toString":[],"other":1}')).toEqual([message]);
  });

  it('rejects lists that are not arrays of strings', () => {
    expect(errorsOf('{"responses":"hi"}')).toEqual(['responses must be an array of strings']);
    expect(errorsOf('{"quickreplies":null}')).toEqual(['quickreplies must be an array of strings']);
    expect(errorsOf('{"quickreplies":["a","b",3,null,{}]}')).toEqual([
      'quickreplies[2] must be a string',
      'quickreplies[3] must be a string',
      'quickreplies[4] must be a string',
    ]);
  });

  it('summarises a long run of bad items', () => {
    const errors = errorsOf(JSON.stringify({ responses: Array(1000).fill(0) }));
    expect(errors).toHaveLength(11);
    expect(errors[9]).toBe('responses[9] must be a string');
    expect(errors[10]).toBe('responses has 990 more items that are not strings');
  });

  it.each(['[]', '"x"', '1', 'null'])('rejects %s as memory or user_attributes', (value) => {
    expect(errorsOf(`{"memory":${value},"user_attributes":${value}}`)).toEqual([
      'memory must be an object',
      'user_attributes must be an object',
    ]);
  });

  it('rejects prototype-shaped keys in memory and user_attributes', () => {
    const body = '{"memory":{"__proto__":{"polluted":1},"constructor":1,"ok":1},"user_attributes":{"prototype":2}}';
    expect(errorsOf(body)).toEqual([
      'memory.__proto__ is not allowed',
      'memory.constructor is not allowed',
      'user_attributes.prototype is not allowed',
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects prototype-shaped keys at any depth, inside arrays too', () => {
    const body =
      '{"memory":{"a":{"b":{"__proto__":{"x":1}}},"list":[{"constructor":{"prototype":1}}]},' +
      '"user_attributes":{"ok":{"prototype":0}}}';
    expect(errorsOf(body)).toEqual([
      'memory.a.b.__proto__ is not allowed',
      'memory.list[0].constructor is not allowed',
      'user_attributes.ok.prototype is not allowed',
    ]);
  });

  it('collects every error at once', () => {
    const body = '{"responses":[1],"quickreplies":"x","memory":[],"user_attributes":{"__proto__":null}}';
    expect(errorsOf(body)).toEqual([
      'responses[0] must be a string',
      'memory must be an object',
      'user_attributes.__proto__ is not allowed',
      'quickreplies must be an array of strings',
    ]);
  });

  it('returns copies whose prototype is untouched', () => {
    const result = sut('{"memory":{"a":1}}');
    if (!result.ok) throw new Error('expected a reply');
    expect(Object.getPrototypeOf(result.reply.memory)).toBe(Object.prototype);
    expect(result.reply.memory).toEqual({ a: 1 });
  });

  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.json()), (body) => {
        const result = sut(body);
        expect(result.ok ? result.reply : result.errors.length).toBeTruthy();
      }),
    );
  });

  it('accepts every reply made of valid parts', () => {
    const strings = fc.array(fc.string());
    // Prototype keys are refused at any depth, so valid parts hold none, nested values included.
    const allowedKey = (k: string) => !FORBIDDEN_KEYS.has(k);
    const value = fc.jsonValue().filter((v) => inspectJson(v, 'value', 1).forbidden.length === 0);
    const objects = fc.dictionary(fc.string().filter(allowedKey), value);
    const reply = fc.record(
      { responses: strings, quickreplies: strings, memory: objects, user_attributes: objects },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        reply.filter((r) => Object.keys(r).length > 0),
        (r) => {
          expect(sut(JSON.stringify(r)).ok).toBe(true);
        },
      ),
    );
  });
});

describe(describeBodyTooLarge.name, () => {
  const sut = describeBodyTooLarge;

  it('names the limit in bytes', () => {
    expect(MAX_REPLY_BYTES).toBe(1_048_576);
    expect(sut()).toBe('body exceeds 1048576 bytes');
    expect(sut(10)).toBe('body exceeds 10 bytes');
  });
});

describe(ReplyTooLargeError.name, () => {
  it('carries the limit and its message', () => {
    const sut = new ReplyTooLargeError();
    expect(sut).toBeInstanceOf(Error);
    expect(sut.name).toBe('ReplyTooLargeError');
    expect(sut.message).toBe('body exceeds 1048576 bytes');
    expect(sut.limit).toBe(MAX_REPLY_BYTES);
  });
});
