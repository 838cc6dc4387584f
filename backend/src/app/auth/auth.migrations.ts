import type { Migration } from '../store/database';

/**
 * The auth feature's tables: users and the sessions/tokens issued to them (one row per `jti`,
 * so each can be revoked). Owned by auth/ alone; never edit an applied migration, add one.
 */
export const AUTH_MIGRATIONS: readonly Migration[] = [
  {
    id: 'auth-001-users-tokens',
    sql: `
      CREATE TABLE users (
        username TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
        password_hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0
      );
      CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('session', 'token')),
        name TEXT,
        groups TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
      CREATE INDEX tokens_by_user ON tokens (username, kind);
    `,
  },
  {
    // The token a token was asked for with (decision 0060): revoking a token revokes the ones it
    // made, and theirs. Rows from before have none and are revoked alone, as they were.
    id: 'auth-002-token-parent',
    sql: `
      ALTER TABLE tokens ADD COLUMN parent_id TEXT;
      CREATE INDEX tokens_by_parent ON tokens (parent_id);
    `,
  },
  {
    // When a user last signed in and a token was last presented, for the Access page: an admin
    // looking for accounts and tokens nobody uses any more. Null for rows from before: unknown.
    id: 'auth-003-last-use',
    sql: `
      ALTER TABLE users ADD COLUMN last_sign_in_at INTEGER;
      ALTER TABLE tokens ADD COLUMN last_used_at INTEGER;
    `,
  },
];
