const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const { join } = require('path');

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
      ],
      optimization: false,
      outputHashing: 'none',
      generatePackageJson: true,
      sourceMap: true,
    }),
  ],
};
