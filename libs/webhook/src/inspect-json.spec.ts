import { inspectJson, MAX_JSON_DEPTH, shortPath } from './inspect-json';

describe(inspectJson.name, () => {
  const sut = inspectJson;

  it('finds forbidden keys at any depth and inside arrays, in document order', () => {
    const value = JSON.parse('{"a":{"__proto__":1},"b":[{"constructor":{"prototype":2}}],"c":{"prototype":3}}');
    expect(sut(value, 'memory')).toEqual({
      forbidden: ['memory.a.__proto__', 'memory.b[0].constructor', 'memory.c.prototype'],
    });
  });

  it('stops at the limit', () => {
    const value = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, JSON.parse('{"__proto__":1}')]));
    expect(sut(value, 'x', 3).forbidden).toHaveLength(3);
  });

  it('reports nesting past the limit instead of overflowing the stack', () => {
    const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000));
    expect(sut(deep, 'body').tooDeep).toBe('body' + '[0]'.repeat(MAX_JSON_DEPTH));
    const fine = JSON.parse('['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH));
    expect(sut(fine, 'body')).toEqual({ forbidden: [] });
  });

  it('shortens long paths for messages, keeping the field and the offending key', () => {
    const long = `memory.${'k'.repeat(300)}.__proto__`;
    const short = shortPath(long);
    expect(short).toHaveLength(120);
    expect(short.startsWith('memory.')).toBe(true);
    expect(short.endsWith('.__proto__')).toBe(true);
    expect(shortPath('memory.a.__proto__')).toBe('memory.a.__proto__');
  });

  it('accepts scalars and clean values', () => {
    expect(sut(1, 'v')).toEqual({ forbidden: [] });
    expect(sut({ a: [1, { b: 'c' }] }, 'v')).toEqual({ forbidden: [] });
  });
});
