import type { Migration } from '../store/database';

/**
 * The device-credentials feature's tables: `device_credentials`, one row per device id with the
 * SHA-256 of its current secret (never the secret; a revoked row stays, so the id stays reserved
 * for its device); `bridge_credentials`, one row per bridge name, likewise (a revoked bridge's
 * row goes: a bridge name reserves nothing), with the client id it last connected with. Owned
 * by device-credentials/ alone; never edit an applied migration, add one.
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
  {
    id: 'device-credentials-002',
    sql: `
      CREATE TABLE bridge_credentials (
        name TEXT PRIMARY KEY,
        secret_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_connect_at INTEGER
      );
    `,
  },
  {
    // The client id each bridge last connected with: its own on the broker (decision 0067's
    // addendum), kept across restarts so no one can take it while the bridge reconnects.
    id: 'device-credentials-003',
    sql: `ALTER TABLE bridge_credentials ADD COLUMN client_id TEXT;`,
  },
];
