// Workspace modules loaded from their TypeScript source through ts-node (transpile only,
// registered once), for benchmark parts that drive a store or a test helper without Nest:
// bench/history-store.mjs (the history stores) and bench/lib/postgres.mjs (startPostgres).
import { createRequire } from 'node:module';
import path from 'node:path';
import { root } from './procs.mjs';

const require = createRequire(import.meta.url);
let registered = false;

/** `relative` (from the workspace root, e.g. `backend/src/app/store/pg-pool.ts`), required. */
export function requireSource(relative) {
  if (!registered) {
    require('ts-node').register({
      transpileOnly: true,
      compilerOptions: { module: 'commonjs', target: 'es2022', esModuleInterop: true },
    });
    registered = true;
  }
  return require(path.join(root, relative));
}
