// A throwaway PostgreSQL cluster for a benchmark row (initdb / pg_ctl on a free loopback port,
// stopped and removed after): test-support's startPostgres, loaded from its TypeScript source
// through ts-node as bench/history-store.mjs loads the adapters.
import { createRequire } from 'node:module';
import path from 'node:path';
import { root } from './procs.mjs';

const require = createRequire(import.meta.url);

export function startPostgres() {
  require('ts-node').register({
    transpileOnly: true,
    compilerOptions: { module: 'commonjs', target: 'es2022', esModuleInterop: true },
  });
  return require(path.join(root, 'test-support/src/lib/postgres.ts')).startPostgres();
}
