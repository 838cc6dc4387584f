module.exports = {
  displayName: 'simulator',
  preset: '../jest.preset.js',
  testEnvironment: 'node',
  transform: {
    // Aedes 2 (test-support's startBroker) ships ES modules only; jest runs CommonJS.
    '/node_modules/aedes/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'es2022' }, isolatedModules: true },
    ],
    '^.+\\.[tj]s$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.spec.json' }],
  },
  transformIgnorePatterns: ['/node_modules/(?!aedes/)'],
  moduleFileExtensions: ['ts', 'js', 'html'],
  coverageDirectory: '../coverage/simulator',
};
