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
];
