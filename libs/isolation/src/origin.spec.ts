import { originOf } from './origin';

describe(originOf.name, () => {
  const sut = originOf;

  it('keeps scheme, host and port only', () => {
    expect(sut('https://api.example.com:8443/hook?x=1#f')).toBe('https://api.example.com:8443');
    expect(sut('http://127.0.0.1:9000/a/b')).toBe('http://127.0.0.1:9000');
  });

  it('treats the default port as absent, and lower-cases the host', () => {
    expect(sut('http://Example.COM:80/x')).toBe(sut('http://example.com/y'));
    expect(sut('https://example.com:443')).toBe('https://example.com');
  });

  it('tells ports and schemes apart', () => {
    expect(sut('http://h:1/')).not.toBe(sut('http://h:2/'));
    expect(sut('http://h/')).not.toBe(sut('https://h/'));
  });

  it('is undefined for what is not a network URL', () => {
    expect(sut('not a url')).toBeUndefined();
    expect(sut('data:text/plain,hi')).toBeUndefined();
  });
});
