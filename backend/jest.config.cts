module.exports = {
  displayName: 'backend',
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
};
