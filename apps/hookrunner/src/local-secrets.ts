import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generateApiKey, generateSecretsKey } from '@hookrunner/security';

const DATA_DIR = resolve('.data');

/**
 * First run of the embedded mode stays easy and never runs open: with no API keys configured, one
 * is generated, printed once and kept in .data/api-keys; with no SECRETS_KEY, one is generated and
 * kept in .data/secrets-key. Later runs reuse both. Sets the variables for the config to read.
 */
export function ensureLocalSecrets(env: NodeJS.ProcessEnv, log: (line: string) => void): void {
  if (!env.API_KEYS && !env.API_KEYS_FILE && env.AUTH_DISABLED !== 'true') {
    const file = resolve(DATA_DIR, 'api-keys');
    if (!existsSync(file)) {
      const key = generateApiKey();
      writePrivate(file, `# API keys for this Hookrunner, one per line (key or key:bot1|bot2)\n${key}\n`);
      log(
        `Generated an API key (shown this once; kept in ${file}):\n\n    ${key}\n\n` +
          'Send it as: Authorization: Bearer <key>',
      );
    } else {
      log(`API keys: ${file}`);
    }
    env.API_KEYS_FILE = file;
  }
  if (!env.SECRETS_KEY) {
    const file = resolve(DATA_DIR, 'secrets-key');
    if (!existsSync(file)) writePrivate(file, `${generateSecretsKey()}\n`);
    env.SECRETS_KEY = readFileSync(file, 'utf8').trim();
  }
}

function writePrivate(file: string, text: string): void {
  mkdirSync(DATA_DIR, { recursive: true });
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}
