import type { Migration } from '../store/database';

/**
 * The screens feature's table: one row per paired wall screen with its board, its group scope
 * and the id (`jti`) of its one display token — deleting the row revokes the token. Not in the
 * auth `tokens` table: those rows belong to a user (and go with them), a screen does not (see
 * docs/decisions/0013-wall-screen-pairing.md). Owned by screens/ alone; never edit an applied
 * migration, add one.
 */
export const SCREENS_MIGRATIONS: readonly Migration[] = [
  {
    id: 'screens-001-screens',
    sql: `
      CREATE TABLE screens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        board TEXT NOT NULL,
        groups TEXT,
        token_id TEXT NOT NULL UNIQUE,
        created_by TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        last_seen INTEGER
      );
    `,
  },
];
