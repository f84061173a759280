// ESLint (flat config): typescript-eslint's recommended type-checked rules on apps/, libs/, test/;
// ESLint's recommended rules on the plain JavaScript of scripts/ and bench/. Formatting is Prettier's;
// max-len, on every linted file, holds the strings and comments Prettier does not wrap to its 120 columns.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', '.builds/', 'dist.tmp-*', 'node_modules/', 'coverage/', '.data/', 'test/artifacts/'] },
  js.configs.recommended,
  {
    rules: {
      // The validators find control characters on purpose (CR, LF and NUL in header names and values).
      'no-control-regex': 'off',
      // Prettier wraps code at 120 but leaves long strings, template literals and comments alone: this
      // holds those to the same width. A URL cannot be split, so a line that holds one may run past it.
      'max-len': ['error', { code: 120, ignoreUrls: true }],
    },
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      // One TypeScript program for the whole tree (tsconfig.json), as `npm run typecheck` builds it.
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Unused names are TypeScript's to report (noUnusedLocals); a leading _ marks one kept on purpose,
      // as in `const { REDIS_URL: _ignored, ...inherited } = process.env`.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    // The client is packed on its own: it may use the public half of libs/contracts (compiled into
    // its dist, see libs/client/src/contracts.ts), and nothing else of the repository.
    files: ['libs/client/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@hookrunner/*'], message: 'The packed client cannot resolve the repository’s aliases.' },
            {
              regex: '^\\.\\./\\.\\./(?!contracts/src/public$)',
              message: 'Only the public half of libs/contracts: ../../contracts/src/public.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', '**/*.spec.ts'],
    rules: {
      // Tests read replies and events as parsed JSON (ApiReply<any>) and check them with expect(), and
      // @types/jest types asymmetric matchers (expect.objectContaining) as any: the assertion is the type
      // check there, and casting each reply to an API type would only restate it without checking it.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: globals.node },
  },
  {
    // The Webhooks page's own scripts run in the browser, not in Node.
    files: ['apps/api/src/admin/assets/**/*.js'],
    languageOptions: { globals: globals.browser },
  },
  {
    // Written by openapi-typescript (npm run openapi), which puts each OpenAPI description and each
    // union type on one line, however long; the file is regenerated, never edited (Prettier skips it too).
    files: ['libs/client/src/generated/openapi.ts'],
    rules: { 'max-len': 'off' },
  },
  {
    files: ['jest.config.js'],
    languageOptions: { sourceType: 'commonjs' },
  },
);
