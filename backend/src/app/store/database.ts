import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import BetterSqlite3 from 'better-sqlite3';
import { ownerOnlyFile } from '../common/owner-only-file';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG, Config } from '../config/config';

/**
 * Pulse's one SQLite database, `${DATA_DIR}/pulse.db` (better-sqlite3: synchronous, so a query
 * is a function call, and nothing else holds the file). Opened with WAL (readers never wait for
 * the writer), foreign keys on and a busy timeout. Owns the connection and the migrations
 * runner; must not know any feature's tables: each feature (auth today; history, devices,
 * screens later) passes its own ordered migrations to {@link migrate} from its repository.
 */

/** One schema change. `id` is unique across features (prefix it with the feature: `auth-001`). */
export interface Migration {
  id: string;
  sql: string;
}

export const DATABASE_FILE = 'pulse.db';
/** How long a statement waits for a lock held by another connection (a second process). */
const BUSY_TIMEOUT_MS = 5000;

/**
 * `journal_mode = WAL` on a connection whose busy_timeout is set. The switch needs the file to
 * itself, and SQLite answers SQLITE_BUSY at once (no busy wait) while another process opens or
 * switches the same file, as gateways on one DATA_DIR starting together do: retried every 20 ms
 * for up to busy_timeout.
 */
export function enableWal(db: BetterSqlite3.Database, timeoutMs = BUSY_TIMEOUT_MS): void {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= until) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}

/**
 * The migrations runner on any SQLite connection (pulse.db's, or a feature's own file such as
 * the history store's): each migration not yet recorded in `schema_migrations`, in order, all in
 * one write transaction taken at once (see below). Returns the ids applied now.
 */
export function applyMigrations(
  db: BetterSqlite3.Database,
  migrations: readonly Migration[],
): string[] {
  // One write transaction from the check to the last migration (BEGIN IMMEDIATE): gateways
  // starting together on one DATA_DIR (the compose volume) run this at once, and the second one
  // read "not applied" before the first committed, then failed on `table … already exists`. Now
  // it waits for the first one's lock (busy_timeout) and finds them applied.
  return db
    .transaction(() => {
      db.exec(
        'CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)',
      );
      const applied = new Set(
        (db.prepare('SELECT id FROM schema_migrations').all() as { id: string }[]).map(
          (row) => row.id,
        ),
      );
      const record = db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)');
      const done: string[] = [];
      for (const migration of migrations) {
        if (applied.has(migration.id)) continue;
        db.exec(migration.sql);
        record.run(migration.id, Date.now());
        done.push(migration.id);
      }
      return done;
    })
    .immediate();
}

@Injectable()
export class Database implements OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  /** The connection; features use it through their repositories only. */
  readonly db: BetterSqlite3.Database;

  constructor(@Inject(CONFIG) config: Pick<Config, 'DATA_DIR'>) {
    mkdirSync(config.DATA_DIR, { recursive: true, mode: 0o700 });
    const file = join(config.DATA_DIR, DATABASE_FILE);
    ownerOnlyFile(file);
    this.db = new BetterSqlite3(file);
    // First: a second gateway on the same DATA_DIR opening the file at this moment must wait for
    // the first one's locks, also the one switching the file to WAL takes.
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    enableWal(this.db);
    this.db.pragma('foreign_keys = ON');
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)',
    );
  }

  /**
   * Apply, in order, each migration not yet recorded in `schema_migrations`: each in its own
   * transaction with its record, so a failed one leaves nothing half done and is retried on the
   * next start. Returns the ids applied now.
   */
  migrate(migrations: readonly Migration[]): string[] {
    const done = applyMigrations(this.db, migrations);
    if (done.length > 0) this.logger.log(`Migrations applied: ${done.join(', ')}`);
    return done;
  }

  /** Closed in the last shutdown phase: features write their last changes when their modules stop. */
  onApplicationShutdown(): void {
    if (this.db.open) this.db.close();
  }
}
