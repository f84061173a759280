// Compiles apps/ and libs/ to dist/ with swc (path aliases rewritten to relative requires).
// Type checking is `npm run typecheck`; this step only transpiles, so it takes about a second.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
execFileSync(
  process.execPath,
  [
    'node_modules/@swc/cli/bin/swc.js', 'apps', 'libs',
    '--out-dir', 'dist', '--config-file', '.swcrc', '--copy-files', '--quiet',
    '--ignore', '**/*.spec.ts',
  ],
  { stdio: 'inherit' },
);
