const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const { readFileSync } = require('fs');
const { join } = require('path');
const { DefinePlugin } = require('webpack');

module.exports = {
  output: {
    path: join(__dirname, '../dist/backend'),
    clean: true,
    ...(process.env.NODE_ENV !== 'production' && {
      devtoolModuleFilenameTemplate: '[absolute-resource-path]',
    }),
  },
  plugins: [
    new NxAppWebpackPlugin({
      target: 'node',
      compiler: 'tsc',
      main: './src/main.ts',
      // The embedded history store's thread (history/sqlite-worker-history.store.ts loads it
      // from beside main.js).
      additionalEntryPoints: [
        {
          entryName: 'history-sqlite.worker',
          entryPath: './src/app/history/sqlite-history.worker.ts',
        },
      ],
      tsConfig: './tsconfig.app.json',
      assets: [
        './src/assets',
        // The history file's checkpointer thread, plain JavaScript (history/sqlite-checkpointer.ts
        // loads it from beside the bundle).
        { input: './src/app/history', glob: 'sqlite-checkpointer.worker.js', output: '.' },
        // The backup thread, plain JavaScript too (backup/backup.service.ts).
        { input: './src/app/backup', glob: 'sqlite-backup.worker.js', output: '.' },
      ],
      optimization: false,
      outputHashing: 'none',
      generatePackageJson: true,
      sourceMap: true,
    }),
    // The version the gateway reports (backend/src/app/config/version.ts), read from the root
    // package.json when it is built; jest.config.cts gives the tests the same.
    new DefinePlugin({
      PULSE_BUILD_VERSION: JSON.stringify(
        JSON.parse(readFileSync(join(__dirname, '../package.json'), 'utf8')).version,
      ),
    }),
  ],
};
