/**
 * Browser end-to-end tests of the dashboard against the real stack:
 * `node dist/backend/main.js` (embedded broker + simulator) and headless Chromium
 * driven by playwright-core. Run with `npx nx e2e dashboard` (builds first).
 */
module.exports = {
  displayName: 'dashboard-e2e',
  testEnvironment: 'node',
  rootDir: '.',
  testMatch: ['<rootDir>/e2e/**/*.e2e.spec.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/e2e/tsconfig.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^@pulse/protocol$': '<rootDir>/../protocol/src/index.ts',
    '^@pulse/test-support$': '<rootDir>/../test-support/src/index.ts',
  },
  // One stack, one browser: the tests share ports and run in order.
  maxWorkers: 1,
  testTimeout: 120_000,
};
