import type { Provider } from '@nestjs/common';
import type { Pool } from 'pg';
import { Database } from '../store/database';
import { PG_POOL } from '../store/pg-pool';
import { DEVICE_STORE, DeviceStore } from './device-store';
import { PgDeviceStore } from './pg-device.store';
import { SqliteDeviceStore } from './sqlite-device.store';

/**
 * The one place that picks the registry's adapter: PostgreSQL on the shared pool when
 * DATABASE_URL is set (migrated here, at boot, before the registry loads), else the SQLite file.
 * Owns that choice only; app.module.ts lists it.
 */
export const DEVICE_STORE_PROVIDER: Provider = {
  provide: DEVICE_STORE,
  inject: [Database, PG_POOL],
  useFactory: (database: Database, pool: Pool | null): Promise<DeviceStore> | DeviceStore =>
    pool ? PgDeviceStore.open(pool) : new SqliteDeviceStore(database),
};
