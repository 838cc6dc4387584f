import type { Migration } from '../store/database';

/**
 * The device registry's table: one row per device the registry holds (meta, last status, last
 * seen, metric names), so the overview after a restart is the one before it. Owned by devices/
 * alone; never edit an applied migration, add one.
 */
export const DEVICES_MIGRATIONS: readonly Migration[] = [
  {
    id: 'devices-001-registry',
    sql: `
      CREATE TABLE devices (
        device_id TEXT PRIMARY KEY,
        status TEXT NOT NULL CHECK (status IN ('online', 'offline', 'unknown')),
        last_seen INTEGER NOT NULL,
        last_ts INTEGER,
        meta TEXT,
        metrics TEXT NOT NULL
      );
      CREATE INDEX devices_by_last_seen ON devices (last_seen);
    `,
  },
  {
    // The pace the device reports at (ms between reports), so no-data judges it by its own pace
    // after a restart rather than at the rule's floor; null until learned.
    id: 'devices-002-cadence',
    sql: 'ALTER TABLE devices ADD COLUMN cadence_ms INTEGER;',
  },
];

/** The same table on PostgreSQL (`pg-device.store.ts`): times as BIGINT ms, JSON as JSONB. */
export const DEVICES_PG_MIGRATIONS: readonly Migration[] = [
  {
    id: 'devices-001-registry',
    sql: `
      CREATE TABLE devices (
        device_id TEXT PRIMARY KEY,
        status TEXT NOT NULL CHECK (status IN ('online', 'offline', 'unknown')),
        last_seen BIGINT NOT NULL,
        last_ts BIGINT,
        meta JSONB,
        metrics JSONB NOT NULL
      );
      CREATE INDEX devices_by_last_seen ON devices (last_seen);
    `,
  },
  { id: 'devices-002-cadence', sql: 'ALTER TABLE devices ADD COLUMN cadence_ms BIGINT;' },
];
