// Compiles apps/ and libs/ to dist/ with swc (path aliases rewritten to relative requires).
// Type checking is `npm run typecheck`; this step only transpiles, so it takes about a second.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';

const PAGE_ASSETS = 'apps/api/src/admin/assets';

rmSync('dist', { recursive: true, force: true });
execFileSync(
  process.execPath,
  [
    'node_modules/@swc/cli/bin/swc.js', 'apps', 'libs',
    '--out-dir', 'dist', '--config-file', '.swcrc', '--copy-files', '--quiet',
    '--ignore', '**/*.spec.ts', '--ignore', `${PAGE_ASSETS}/**`,
  ],
  { stdio: 'inherit' },
);
// The Webhooks page's files are served as they are: swc would turn its browser modules into CommonJS.
cpSync(PAGE_ASSETS, `dist/${PAGE_ASSETS}`, { recursive: true });
