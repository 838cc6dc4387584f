import type { Pool, PoolClient } from 'pg';
import type { Migration } from './database';

/**
 * What every feature's PostgreSQL adapter needs: per-feature migrations, the same contract as
 * `Database.migrate` on SQLite (each
 * migration not yet recorded in `schema_migrations` runs in its own transaction with its record,
 * so a failed one leaves nothing half done and runs again at the next start; a lock keeps two
 * gateways starting together from applying one twice), and a transaction helper. Owns these
 * only; must not know any feature's tables (each adapter passes its own migrations).
 */

/** Advisory lock key held while migrating ("pulse" in ASCII). */
const MIGRATION_LOCK = 0x70756c7365;

export async function migratePg(pool: Pool, migrations: readonly Migration[]): Promise<string[]> {
  const client = await pool.connect();
  const done: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)',
    );
    const { rows } = await client.query<{ id: string }>('SELECT id FROM schema_migrations');
    const applied = new Set(rows.map((row) => row.id));
    for (const migration of migrations) {
      if (applied.has(migration.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query('INSERT INTO schema_migrations (id, applied_at) VALUES ($1, $2)', [
          migration.id,
          Date.now(),
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
      done.push(migration.id);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    client.release();
  }
  return done;
}

/** Run `work` in one transaction on one pooled connection (rolled back if it throws). */
export async function inTransaction<T>(
  pool: Pool,
  work: (client: PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    return await inClientTransaction(client, () => work(client));
  } finally {
    client.release();
  }
}

/**
 * Run `work` in one transaction on a connection the caller holds (rolled back if it throws, so
 * the connection stays usable for what the caller does next on it).
 */
export async function inClientTransaction<T>(
  client: PoolClient,
  work: () => Promise<T>,
): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
