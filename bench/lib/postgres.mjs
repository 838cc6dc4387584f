// A throwaway PostgreSQL cluster for a benchmark row (initdb / pg_ctl on a free loopback port,
// stopped and removed after): test-support's startPostgres, loaded from its TypeScript source.
import { requireSource } from './ts-source.mjs';

export function startPostgres() {
  return requireSource('test-support/src/lib/postgres.ts').startPostgres();
}
