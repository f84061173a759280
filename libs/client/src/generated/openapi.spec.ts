import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

describe('the client’s generated types', () => {
  it('are what openapi-typescript makes of the committed openapi.json (run `npm run generate` in libs/client)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'client-types-'));
    try {
      const out = join(dir, 'openapi.ts');
      const root = resolve(__dirname, '../../../..');
      execFileSync(
        process.execPath,
        [
          join(root, 'node_modules/openapi-typescript/bin/cli.js'),
          join(root, 'openapi.json'),
          '--default-non-nullable',
          'false',
          '-o',
          out,
        ],
        { stdio: 'pipe' },
      );
      expect(readFileSync(out, 'utf8')).toEqual(readFileSync(join(__dirname, 'openapi.ts'), 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
