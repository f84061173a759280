import { randomBytes } from 'node:crypto';
import { generateSecretsKey, open, parseSecretsKey, seal } from './secrets';

describe(seal.name, () => {
  const key = parseSecretsKey(generateSecretsKey());

  it('round-trips through open', () => {
    for (const plaintext of ['Bearer sk_live_abc123', '', 'ünïcødé ✓ 🔑', 'x'.repeat(10_000)]) {
      expect(open(key, seal(key, plaintext))).toBe(plaintext);
    }
  });

  it('writes v1.<iv>.<tag>.<ciphertext>, the plaintext nowhere in it', () => {
    const sealed = seal(key, 'Bearer sk_live_abc123');

    expect(sealed).toMatch(/^v1\.[A-Za-z0-9+/]{16}\.[A-Za-z0-9+/]{22}==\.[A-Za-z0-9+/=]+$/);
    expect(sealed).not.toContain('sk_live');
  });

  it('uses a fresh IV each time, so equal secrets do not look equal', () => {
    const a = seal(key, 'same');
    const b = seal(key, 'same');

    expect(a).not.toBe(b);
    expect(a.split('.')[1]).not.toBe(b.split('.')[1]);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => seal(randomBytes(16), 'x')).toThrow('must be 32 bytes');
  });
});

describe(open.name, () => {
  const key = parseSecretsKey(generateSecretsKey());
  const sealed = seal(key, 'Authorization: Bearer secret-token');

  function alter(part: number): string {
    const parts = sealed.split('.');
    const bytes = Buffer.from(parts[part], 'base64');
    bytes[0] ^= 0x01;
    parts[part] = bytes.toString('base64');
    return parts.join('.');
  }

  it.each([
    ['the ciphertext', 3],
    ['the tag', 2],
    ['the IV', 1],
  ])('detects a change to %s', (_part, index) => {
    expect(() => open(key, alter(index))).toThrow('failed authentication');
  });

  it('fails under another key', () => {
    expect(() => open(parseSecretsKey(generateSecretsKey()), sealed)).toThrow('failed authentication');
  });

  it.each(['', 'plain text', 'v2.a.b.c', 'v1.a.b', 'v1.AAAA.AAAA.AAAA', `${sealed}.extra`])(
    'rejects the malformed value %p',
    (value) => {
      expect(() => open(key, value)).toThrow('not in the v1 format');
    },
  );
});

describe(parseSecretsKey.name, () => {
  const sut = parseSecretsKey;
  const bytes = randomBytes(32);

  it('reads 32 bytes written as hex, base64 or base64url', () => {
    expect(sut(bytes.toString('hex'))).toEqual(bytes);
    expect(sut(bytes.toString('hex').toUpperCase())).toEqual(bytes);
    expect(sut(bytes.toString('base64'))).toEqual(bytes);
    expect(sut(bytes.toString('base64url'))).toEqual(bytes);
    expect(sut(` ${bytes.toString('base64')}\n`)).toEqual(bytes);
  });

  it.each([
    ['too short', randomBytes(16).toString('base64')],
    ['too long', randomBytes(48).toString('base64')],
    ['63 hex characters', bytes.toString('hex').slice(1)],
    ['not base64', 'this is not a key at all, honestly!'],
    ['empty', ''],
  ])('rejects a key that is %s, without echoing it', (_case, value) => {
    expect(() => sut(value)).toThrow(/^SECRETS_KEY must be 32 bytes written as 64 hex characters or as base64$/);
  });

  it('reads what generateSecretsKey makes', () => {
    expect(sut(generateSecretsKey())).toHaveLength(32);
    expect(generateSecretsKey()).not.toBe(generateSecretsKey());
  });
});
