import type { Migration } from '../store/database';

/**
 * The alert feature's tables: the rule set edited over HTTP (one JSON document: rules change
 * rarely and always as a set), the alerts on the active list (one row each, the event as last
 * reported) and the lifecycle history (append-only, pruned to the history bound). Owned by
 * alerts/ alone; never edit an applied migration, add one.
 */
export const ALERTS_MIGRATIONS: readonly Migration[] = [
  {
    id: 'alerts-001-rules-open-history',
    sql: `
      CREATE TABLE alert_rule_set (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        rules TEXT NOT NULL,
        saved_at INTEGER NOT NULL
      );
      CREATE TABLE alert_open (
        alert_id TEXT PRIMARY KEY,
        event TEXT NOT NULL
      );
      CREATE TABLE alert_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        alert_id TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        event TEXT NOT NULL
      );
    `,
  },
  {
    // Who saved the rule set (a gateway's run id; '' before): with saved_at, the set's version,
    // so gateways agree on the newest after restarts (live/peer-rules.ts, decision 0027).
    id: 'alerts-002-rules-saved-by',
    sql: `ALTER TABLE alert_rule_set ADD COLUMN saved_by TEXT NOT NULL DEFAULT '';`,
  },
];

/** The same tables on PostgreSQL (`pg-alert.store.ts`): times as BIGINT ms, JSON as JSONB. */
export const ALERTS_PG_MIGRATIONS: readonly Migration[] = [
  {
    id: 'alerts-001-rules-open-history',
    sql: `
      CREATE TABLE alert_rule_set (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        rules JSONB NOT NULL,
        saved_at BIGINT NOT NULL
      );
      CREATE TABLE alert_open (
        alert_id TEXT PRIMARY KEY,
        event JSONB NOT NULL
      );
      CREATE TABLE alert_events (
        seq BIGSERIAL PRIMARY KEY,
        alert_id TEXT NOT NULL,
        updated_at BIGINT NOT NULL,
        event JSONB NOT NULL
      );
    `,
  },
  {
    id: 'alerts-002-rules-saved-by',
    sql: `ALTER TABLE alert_rule_set ADD COLUMN saved_by TEXT NOT NULL DEFAULT '';`,
  },
];
