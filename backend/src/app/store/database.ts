import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import BetterSqlite3 from 'better-sqlite3';
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
 * The migrations runner on any SQLite connection (pulse.db's, or a feature's own file such as
 * the history store's): each migration not yet recorded in `schema_migrations`, in order, in its
 * own transaction with its record. Returns the ids applied now.
 */
export function applyMigrations(
  db: BetterSqlite3.Database,
  migrations: readonly Migration[],
): string[] {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)',
  );
  const applied = new Set(
    (db.prepare('SELECT id FROM schema_migrations').all() as { id: string }[]).map((row) => row.id),
  );
  const record = db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)');
  const done: string[] = [];
  for (const migration of migrations) {
    if (applied.has(migration.id)) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      record.run(migration.id, Date.now());
    })();
    done.push(migration.id);
  }
  return done;
}

@Injectable()
export class Database implements OnApplicationShutdown {
  private readonly logger = new Logger('Database');
  /** The connection; features use it through their repositories only. */
  readonly db: BetterSqlite3.Database;

  constructor(@Inject(CONFIG) config: Pick<Config, 'DATA_DIR'>) {
    mkdirSync(config.DATA_DIR, { recursive: true, mode: 0o700 });
    this.db = new BetterSqlite3(join(config.DATA_DIR, DATABASE_FILE));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
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
