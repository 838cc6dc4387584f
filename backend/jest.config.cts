module.exports = {
  displayName: 'backend',
  preset: '../jest.preset.js',
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  moduleFileExtensions: ['ts', 'js', 'html'],
  coverageDirectory: '../coverage/backend',
  // Unit tests beside the code (src/**) and integration tests with real servers (test/*.spec.ts).
  roots: ['<rootDir>/src', '<rootDir>/test'],
  testTimeout: 30_000,
};
