import {
  type ApiKey,
  authenticate,
  authorize,
  generateApiKey,
  mayAccessBot,
  parseApiKeys,
  parseKeysFile,
} from './api-keys';

const bearer = (key: string) => `Bearer ${key}`;

/** The kind of the guard's verdict alone: 'ok', 'unauthenticated' or 'forbidden'. */
const verdictOf = (...args: Parameters<typeof authorize>) => authorize(...args).kind;

describe(parseApiKeys.name, () => {
  const sut = parseApiKeys;

  it('reads unrestricted and bot-restricted keys, skipping empty entries', () => {
    const keys = sut(' admin-key ,, bots-key:bot-1|bot.2 , one:bot:3,');

    expect(keys).toHaveLength(3);
    expect(keys[0].botIds).toBeUndefined();
    expect([...(keys[1].botIds ?? [])]).toEqual(['bot-1', 'bot.2']);
    expect([...(keys[2].botIds ?? [])]).toEqual(['bot:3']);
    expect(sut('')).toEqual([]);
  });

  it('keeps only a digest of each key', () => {
    const [key] = sut('my-secret-key:bot-1');

    expect(JSON.stringify({ ...key, botIds: [...(key.botIds ?? [])] })).not.toContain('my-secret-key');
  });

  it.each([
    ['a key with a space', 'good,bad key', 'API_KEYS entry 2: a key must be'],
    ['an empty key', ':bot-1', 'API_KEYS entry 1: a key must be'],
    ['an empty bot list', 'key:', 'API_KEYS entry 1: "" is not a valid botId'],
    ['an empty bot', 'key:bot-1||bot-2', 'API_KEYS entry 1: "" is not a valid botId'],
    ['an invalid botId', 'key:bot{1}', 'API_KEYS entry 1: "bot{1}" is not a valid botId'],
  ])('rejects %s, naming the entry by position', (_case, spec, message) => {
    expect(() => sut(spec)).toThrow(message);
  });

  it('never puts a key in an error', () => {
    expect(() => sut('s3cr3t key')).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('s3cr3t') }),
    );
  });
});

describe(parseKeysFile.name, () => {
  const sut = parseKeysFile;

  it('reads one entry per line, ignoring comments and blank lines', () => {
    const keys = sut(
      [
        '# keys for staging',
        '',
        'admin-key',
        'bots-key:bot-1|bot-2   # the two demo bots',
        '\r',
        '  # indented comment',
      ].join('\n'),
    );

    expect(keys).toHaveLength(2);
    expect(verdictOf(keys, bearer('admin-key'), 'any-bot')).toBe('ok');
    expect(verdictOf(keys, bearer('bots-key'), 'bot-2')).toBe('ok');
    expect(verdictOf(keys, bearer('bots-key'), 'bot-3')).toBe('forbidden');
  });

  it('names the line of a bad entry', () => {
    expect(() => sut('good\n\nbad key\n')).toThrow('keys file line 3: a key must be');
  });
});

describe(authorize.name, () => {
  const sut = verdictOf;
  const keys = parseApiKeys('admin-key,bots-key:bot-1|bot-2');

  it('answers ok with the key that authenticated, for the guard to keep on the request', () => {
    const verdict = authorize(keys, bearer('bots-key'), 'bot-1');

    expect(verdict.kind).toBe('ok');
    expect(verdict.kind === 'ok' && [...(verdict.key.botIds ?? [])]).toEqual(['bot-1', 'bot-2']);
  });

  it('lets an unrestricted key act for any bot, and where no bot is named', () => {
    expect(sut(keys, bearer('admin-key'), 'bot-1')).toBe('ok');
    expect(sut(keys, bearer('admin-key'), 'bot-9')).toBe('ok');
    expect(sut(keys, bearer('admin-key'))).toBe('ok');
  });

  it('lets a restricted key act for its bots only', () => {
    expect(sut(keys, bearer('bots-key'), 'bot-1')).toBe('ok');
    expect(sut(keys, bearer('bots-key'), 'bot-2')).toBe('ok');
    expect(sut(keys, bearer('bots-key'), 'bot-3')).toBe('forbidden');
    expect(sut(keys, bearer('bots-key'), 'bot-10')).toBe('forbidden');
    expect(sut(keys, bearer('bots-key'))).toBe('ok');
  });

  it('accepts the scheme in any case and surrounding spaces', () => {
    expect(sut(keys, 'bearer admin-key')).toBe('ok');
    expect(sut(keys, 'BEARER   admin-key  ')).toBe('ok');
  });

  it.each([
    ['no header', undefined],
    ['an empty header', ''],
    ['the scheme alone', 'Bearer'],
    ['the scheme and a space', 'Bearer '],
    ['another scheme', 'Basic YWRtaW4ta2V5Og=='],
    ['no scheme', 'admin-key'],
    ['two tokens', 'Bearer admin-key admin-key'],
    ['a wrong key', 'Bearer wrong-key'],
    ['a prefix of a key', 'Bearer admin'],
    ['a key with more after it', 'Bearer admin-key2'],
    ['a key in another case', 'Bearer ADMIN-KEY'],
    ['a repeated header', ['Bearer admin-key', 'Bearer admin-key']],
  ])('is unauthenticated with %s', (_case, header) => {
    expect(sut(keys, header, 'bot-1')).toBe('unauthenticated');
    expect(sut(keys, header)).toBe('unauthenticated');
  });

  it('is unauthenticated for everyone when no keys are configured', () => {
    expect(sut([], bearer('admin-key'), 'bot-1')).toBe('unauthenticated');
  });

  it('lets a key listed twice act for every bot either entry names', () => {
    expect(sut(parseApiKeys('k:bot-1,k:bot-2'), bearer('k'), 'bot-2')).toBe('ok');
    expect(sut(parseApiKeys('k:bot-1,k:bot-2'), bearer('k'), 'bot-3')).toBe('forbidden');
    expect(sut([...parseApiKeys('k:bot-1'), ...parseKeysFile('k')], bearer('k'), 'bot-3')).toBe('ok');
  });

  it('accepts a generated key', () => {
    const key = generateApiKey();

    expect(sut(parseApiKeys(`${key}:bot-1`), bearer(key), 'bot-1')).toBe('ok');
  });
});

describe(authenticate.name, () => {
  it('returns the key, whose bots are then checked with mayAccessBot', () => {
    const keys = parseApiKeys('bots-key:bot-1');
    const sut = authenticate(keys, bearer('bots-key')) as ApiKey;

    expect(mayAccessBot(sut, 'bot-1')).toBe(true);
    expect(mayAccessBot(sut, 'bot-2')).toBe(false);
    expect(authenticate(keys, bearer('other'))).toBeUndefined();
  });
});

describe(generateApiKey.name, () => {
  it('makes hr_ and 32 random bytes in base64url', () => {
    const sut = generateApiKey();

    expect(sut).toMatch(/^hr_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(sut.slice(3), 'base64url')).toHaveLength(32);
    expect(generateApiKey()).not.toBe(sut);
  });
});
