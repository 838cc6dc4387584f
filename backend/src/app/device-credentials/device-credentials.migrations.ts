import type { Migration } from '../store/database';

/**
 * The device-credentials feature's table: one row per device id with the SHA-256 of its
 * current secret (never the secret). A revoked row stays, so the id stays reserved for its
 * device. Owned by device-credentials/ alone; never edit an applied migration, add one.
 */
export const DEVICE_CREDENTIALS_MIGRATIONS: readonly Migration[] = [
  {
    id: 'device-credentials-001',
    sql: `
      CREATE TABLE device_credentials (
        device_id TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER,
        last_connect_at INTEGER
      );
    `,
  },
];
