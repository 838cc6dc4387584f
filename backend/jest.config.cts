const { availableParallelism } = require('node:os');

module.exports = {
  displayName: 'backend',
  // Most integration specs wait on real servers, sockets and timers rather than compute: two
  // workers even on a 2-core machine (Jest's default there is one) halve the suite's wall time
  // (~530 → ~290 s). A spec must therefore own what it inspects (its own child processes, its own
  // ports), never look a process up machine-wide.
  maxWorkers: Math.max(2, availableParallelism() - 1),
  preset: '../jest.preset.js',
  testEnvironment: 'node',
  transform: {
    // jose and Aedes 2 ship ES modules only (Node loads them with require(esm);
    // jest's CJS runtime cannot). Their dependencies are CommonJS.
    '/node_modules/(jose|aedes)/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'es2022' }, isolatedModules: true },
    ],
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  transformIgnorePatterns: ['/node_modules/(?!jose/|aedes/)'],
  moduleFileExtensions: ['ts', 'js', 'html'],
  coverageDirectory: '../coverage/backend',
  // Unit tests beside the code (src/**) and integration tests with real servers (test/*.spec.ts).
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testTimeout: 30_000,
  // No rate-limited log's timer outlives its spec file (test/support/close-logs.ts says why).
  setupFilesAfterEnv: ['<rootDir>/test/support/close-logs.ts'],
  // What the build's DefinePlugin puts in (webpack.config.js): src/app/config/version.ts.
  globals: { PULSE_BUILD_VERSION: require('../package.json').version },
};
