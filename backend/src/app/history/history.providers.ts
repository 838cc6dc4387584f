import type { Provider } from '@nestjs/common';
import { join } from 'node:path';
import { CONFIG, Config } from '../config/config';
import type { Pool } from 'pg';
import { Database, DATABASE_FILE } from '../store/database';
import { openPgReadPool, PG_POOL } from '../store/pg-pool';
import { HistoryReader } from './history-reader.service';
import { HISTORY_STORE, HistoryStore } from './history-store';
import { HistoryWriter } from './history-writer.service';
import { HistoryService } from './history.service';
import { PostgresHistoryStore } from './postgres-history.store';
import { HISTORY_DATABASE_FILE } from './sqlite-history.store';
import { SqliteWorkerHistoryStore } from './sqlite-worker-history.store';

/*
 * The history feature's providers, and the one place that picks the store adapter:
 * PostgreSQL when DATABASE_URL is set (the shared pool, store/pg-pool.ts), else the SQLite file under DATA_DIR, written from a worker thread. Owns that choice
 * only; app.module.ts spreads this list.
 */
export const HISTORY_PROVIDERS: Provider[] = [
  {
    provide: HISTORY_STORE,
    inject: [CONFIG, Database, PG_POOL],
    // Database first: it creates DATA_DIR and pulse.db, which old history may be moved from.
    useFactory: (config: Config, _database: Database, pool: Pool | null): HistoryStore =>
      pool
        ? new PostgresHistoryStore(pool, undefined, openPgReadPool(config.DATABASE_URL as string))
        : new SqliteWorkerHistoryStore(join(config.DATA_DIR, HISTORY_DATABASE_FILE), {
            legacyFile: join(config.DATA_DIR, DATABASE_FILE),
          }),
  },
  HistoryWriter,
  HistoryService,
  HistoryReader,
];
