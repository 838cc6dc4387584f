import type { Provider } from '@nestjs/common';
import type { Pool } from 'pg';
import { Database } from '../store/database';
import { PG_POOL } from '../store/pg-pool';
import { ALERT_STORE, AlertStore } from './alert-store';
import { PgAlertStore } from './pg-alert.store';
import { SqliteAlertStore } from './sqlite-alert.store';

/**
 * The one place that picks the alert feature's adapter: PostgreSQL on the shared pool when
 * DATABASE_URL is set (migrated here, at boot, before the alerts restore), else the SQLite
 * file. Owns that choice only; app.module.ts lists it.
 */
export const ALERT_STORE_PROVIDER: Provider = {
  provide: ALERT_STORE,
  inject: [Database, PG_POOL],
  useFactory: (database: Database, pool: Pool | null): Promise<AlertStore> | AlertStore =>
    pool ? PgAlertStore.open(pool) : new SqliteAlertStore(database),
};
