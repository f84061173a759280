import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function packageVersion(): string {
  // dist/libs/outbound/src → the repo root holds package.json, as does libs/outbound/src/../../..
  for (const up of ['../../../..', '../../..']) {
    try {
      return (JSON.parse(readFileSync(join(__dirname, up, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      // try the next candidate
    }
  }
  return '0.0.0';
}

/** Sent on every call: `hookrunner/<version>`. */
export const USER_AGENT = `hookrunner/${packageVersion()}`;
