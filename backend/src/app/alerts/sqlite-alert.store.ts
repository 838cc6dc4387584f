import { Injectable } from '@nestjs/common';
import type { AlertEvent, RulesVersion } from '@pulse/protocol';
import { Database } from '../store/database';
import { ALERTS_MIGRATIONS } from './alerts.migrations';
import { AlertStore } from './alert-store';
import { StoredAlertEvent, fromStored } from './stored-alert-event';

/**
 * The alert feature's records in Pulse's SQLite file (`alert_rule_set`, `alert_open`,
 * `alert_events`): every SQL statement on them. Holds no policy (when to write, what a
 * restored alert means); must not touch another feature's tables.
 */
@Injectable()
export class SqliteAlertStore implements AlertStore {
  constructor(private readonly database: Database) {
    database.migrate(ALERTS_MIGRATIONS);
  }

  async loadRules(): Promise<unknown[] | null> {
    const row = this.database.db.prepare('SELECT rules FROM alert_rule_set WHERE id = 1').get() as
      | { rules: string }
      | undefined;
    return row ? (JSON.parse(row.rules) as unknown[]) : null;
  }

  async loadRulesVersion(): Promise<RulesVersion | null> {
    const row = this.database.db
      .prepare('SELECT saved_at, saved_by FROM alert_rule_set WHERE id = 1')
      .get() as { saved_at: number; saved_by: string } | undefined;
    return row ? { at: row.saved_at, by: row.saved_by } : null;
  }

  async saveRules(
    rules: readonly unknown[],
    version: RulesVersion = { at: Date.now(), by: '' },
  ): Promise<void> {
    this.database.db
      .prepare(
        `INSERT INTO alert_rule_set (id, rules, saved_at, saved_by) VALUES (1, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET rules = excluded.rules, saved_at = excluded.saved_at,
           saved_by = excluded.saved_by`,
      )
      .run(JSON.stringify(rules), version.at, version.by);
  }

  async loadOpen(): Promise<AlertEvent[]> {
    const rows = this.database.db.prepare('SELECT event FROM alert_open').all() as {
      event: string;
    }[];
    return rows.map((row) => fromStored(JSON.parse(row.event) as StoredAlertEvent));
  }

  async loadHistory(limit: number): Promise<AlertEvent[]> {
    const rows = this.database.db
      .prepare('SELECT event FROM alert_events ORDER BY seq DESC LIMIT ?')
      .all(limit) as { event: string }[];
    return rows.reverse().map((row) => fromStored(JSON.parse(row.event) as StoredAlertEvent));
  }

  async saveEvents(
    events: readonly AlertEvent[],
    latest: readonly AlertEvent[],
    keepHistory: number,
  ): Promise<void> {
    const { db } = this.database;
    // The gateway may be shutting down with the file already closed: nothing to write to.
    if (!db.open || (events.length === 0 && latest.length === 0)) return;
    const append = db.prepare(
      'INSERT INTO alert_events (alert_id, updated_at, event) VALUES (?, ?, ?)',
    );
    const keep = db.prepare(
      `INSERT INTO alert_open (alert_id, event) VALUES (?, ?)
       ON CONFLICT (alert_id) DO UPDATE SET event = excluded.event`,
    );
    const drop = db.prepare('DELETE FROM alert_open WHERE alert_id = ?');
    const prune = db.prepare(
      'DELETE FROM alert_events WHERE seq <= (SELECT MAX(seq) FROM alert_events) - ?',
    );
    db.transaction(() => {
      for (const event of events) append.run(event.id, event.updatedAt, JSON.stringify(event));
      for (const event of latest) {
        if (event.active) keep.run(event.id, JSON.stringify(event));
        else drop.run(event.id);
      }
      if (events.length > 0) prune.run(keepHistory);
    })();
  }
}
