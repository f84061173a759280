import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Environment, validateEnvironment } from './environment';

describe(validateEnvironment.name, () => {
  const sut = validateEnvironment;

  it('fills every default from an empty environment', () => {
    const env = sut({});
    expect(env.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(env.PORT).toBe(3000);
    expect(env.WORKER_CONCURRENCY).toBe(100);
    expect(env.SESSION_TTL_SECONDS).toBe(600);
    expect(env.FAILED_RETENTION_HOURS).toBe(168);
  });

  it('converts numeric strings', () => {
    expect(sut({ PORT: '8080', WORKER_CONCURRENCY: '7' })).toMatchObject({ PORT: 8080, WORKER_CONCURRENCY: 7 });
  });

  it('names every bad variable and its rule', () => {
    const thrown = (() => {
      try {
        sut({ PORT: 'eighty', WORKER_CONCURRENCY: '0', REDIS_URL: 'localhost' });
      } catch (err) {
        return (err as Error).message;
      }
    })();
    expect(thrown).toContain('PORT="eighty": ');
    expect(thrown).toContain('PORT must be an integer number');
    expect(thrown).toContain('WORKER_CONCURRENCY="0": WORKER_CONCURRENCY must not be less than 1');
    expect(thrown).toContain('REDIS_URL="localhost": REDIS_URL must be a redis:// or rediss:// URL');
  });

  it('ignores variables it does not know', () => {
    expect(() => sut({ PATH: '/bin', HOME: '/root' })).not.toThrow();
  });
});

describe('optional variables', () => {
  it('reads variables that have no default', () => {
    const env = validateEnvironment({ API_KEYS: 'k1', OUTBOUND_ALLOW_CIDRS: '127.0.0.1/32', RATE_LIMIT_BURST: '5' });
    expect(env).toMatchObject({ API_KEYS: 'k1', OUTBOUND_ALLOW_CIDRS: '127.0.0.1/32', RATE_LIMIT_BURST: 5 });
  });
});

describe('the README configuration table', () => {
  it('lists every variable the environment schema reads', () => {
    const readme = readFileSync(join(__dirname, '../../../README.md'), 'utf8');
    const missing = Object.keys(new Environment()).filter((name) => !readme.includes(`| \`${name}\` |`));
    expect(missing).toEqual([]);
  });
});
