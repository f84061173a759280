/** Unit specs sit beside their code; integration specs under test/ drive real processes and a real Redis. */
const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      keepClassNames: true,
    },
  },
];
const moduleNameMapper = { '^@hookrunner/([a-z-]+)$': '<rootDir>/libs/$1/src' };
const common = { testEnvironment: 'node', transform: { '^.+\\.ts$': swc }, moduleNameMapper };

module.exports = {
  // Integration specs start real processes; unit specs finish in milliseconds either way.
  testTimeout: 60_000,
  projects: [
    // test/unit: pure specs of test code (the oracles in test/support), with no Redis and no process.
    {
      ...common,
      displayName: 'unit',
      roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test/unit'],
      testMatch: ['**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'integration',
      roots: ['<rootDir>/test/integration'],
      testMatch: ['**/*.spec.ts'],
    },
    // `npm run test:faults`: kills and restarts real processes and Redis; minutes, not seconds.
    { ...common, displayName: 'faults', roots: ['<rootDir>/test/faults'], testMatch: ['**/*.spec.ts'] },
  ],
};
