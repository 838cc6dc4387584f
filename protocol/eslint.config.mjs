import baseConfig from '../eslint.config.mjs';

export default [
  ...baseConfig,
  {
    files: ['**/*.ts'],
    rules: {
      // Belt and braces next to @nx/enforce-module-boundaries: name the frameworks outright.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '@nestjs/*',
            '@angular/*',
            'mqtt',
            'socket.io',
            'socket.io-client',
            'aedes',
            'chart.js',
            'rxjs',
          ],
        },
      ],
    },
  },
  {
    // The zod-free core entry (@pulse/protocol/core) and the modules it re-exports: no zod and
    // no schema or decoder values (types are fine, erased on build). core.spec.ts walks the
    // whole import graph as well.
    files: [
      'src/core.ts',
      'src/lib/{ids,limits,topics,model,rejections,encode,live,http,alerts,backoff,clock,series-buffer}.ts',
    ],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'zod', message: 'the core entry must stay zod-free' }],
          patterns: [
            {
              group: [
                './*.schema',
                './lib/*.schema',
                './decode',
                './lib/decode',
                './index',
                '../index',
              ],
              allowTypeImports: true,
              message: 'core modules may import schema modules for types only (import type)',
            },
          ],
        },
      ],
    },
  },
];
