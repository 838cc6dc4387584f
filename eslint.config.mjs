import nx from '@nx/eslint-plugin';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  {
    ignores: ['**/dist', '**/out-tsc'],
  },
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.js', '**/*.jsx'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: ['^.*/eslint(\\.base)?\\.config\\.[cm]?[jt]s$'],
          // The contract library is plain TypeScript: it may depend on nothing of ours
          // and on no framework (no Nest, Angular, mqtt or socket.io), only on zod.
          depConstraints: [
            {
              sourceTag: 'type:contract',
              onlyDependOnLibsWithTags: [],
              allowedExternalImports: ['zod'],
            },
            // Apps may import the test toolkit, but only from their tests: the rule below
            // keeps it out of production files, which this per-project check cannot tell apart.
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: ['type:contract', 'type:test'],
            },
            // The test toolkit sits beside the apps, not on them: it may use the contract only
            // (a helper needing app source stays in that app's test folder).
            {
              sourceTag: 'type:test',
              onlyDependOnLibsWithTags: ['type:contract'],
            },
          ],
        },
      ],
    },
  },
  {
    // Tests only: production code never imports the test toolkit. Specs, test folders, e2e
    // and `testing/` helpers may.
    files: ['**/*.ts', '**/*.tsx', '**/*.cts', '**/*.mts', '**/*.js', '**/*.mjs'],
    ignores: [
      '**/*.spec.ts',
      '**/*.test.ts',
      '**/test/**',
      '**/testing/**',
      '**/e2e/**',
      '**/test-setup.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@pulse/test-support',
              message: 'test helpers are for tests only (*.spec.ts, test/, e2e/, testing/)',
            },
          ],
        },
      ],
    },
  },
  {
    files: [
      '**/*.ts',
      '**/*.tsx',
      '**/*.cts',
      '**/*.mts',
      '**/*.js',
      '**/*.jsx',
      '**/*.cjs',
      '**/*.mjs',
    ],
    // Override or add rules here
    rules: {},
  },
];
