import { parseJsonBody } from './http-app';

describe(parseJsonBody.name, () => {
  const sut = parseJsonBody;

  it.each([
    ['null', 'null'],
    ['[]', 'an array'],
    ['[{"userId":"u1"}]', 'an array'],
    ['0', 'a number'],
    ['1.5', 'a number'],
    ['"text"', 'a string'],
    ['true', 'a boolean'],
    ['false', 'a boolean'],
  ])('refuses the body %s with a 400 saying it must be a JSON object', (text, kind) => {
    expect(() => sut(text)).toThrow(
      expect.objectContaining({ statusCode: 400, message: `body must be a JSON object, not ${kind}` }),
    );
  });

  it('returns an object body as parsed', () => {
    expect(sut('{"userId":"u1","memory":{"a":[1,null]}}')).toEqual({ userId: 'u1', memory: { a: [1, null] } });
  });

  it('reads an empty body as no body', () => {
    expect(sut('')).toBeUndefined();
  });

  it('still refuses malformed JSON and forbidden keys', () => {
    expect(() => sut('{"a":')).toThrow(
      expect.objectContaining({ statusCode: 400, message: expect.stringContaining('not valid JSON') }),
    );
    expect(() => sut('{"a":{"__proto__":1}}')).toThrow(
      expect.objectContaining({ statusCode: 400, message: expect.stringContaining('__proto__') }),
    );
  });
});
