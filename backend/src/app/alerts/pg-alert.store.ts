import type { AlertEvent, RulesVersion } from '@pulse/protocol';
import type { Pool } from 'pg';
import { inTransaction, migratePg } from '../store/pg-feature-store';
import { AlertStore } from './alert-store';
import { ALERTS_PG_MIGRATIONS } from './alerts.migrations';
import { StoredAlertEvent, fromStored } from './stored-alert-event';

/**
 * The alert feature's records on PostgreSQL (`alert_rule_set`, `alert_open`, `alert_events`),
 * for deployments with DATABASE_URL: every SQL statement on them, a whole journal write in one
 * transaction of multi-row statements (`unnest`). Holds no policy; must not touch another
 * feature's tables nor own the pool.
 */
export class PgAlertStore implements AlertStore {
  private constructor(private readonly pool: Pool) {}

  /** Migrate (`alerts-*`), then the store. */
  static async open(pool: Pool): Promise<PgAlertStore> {
    await migratePg(pool, ALERTS_PG_MIGRATIONS);
    return new PgAlertStore(pool);
  }

  async loadRules(): Promise<unknown[] | null> {
    const { rows } = await this.pool.query<{ rules: unknown[] }>(
      'SELECT rules FROM alert_rule_set WHERE id = 1',
    );
    return rows[0]?.rules ?? null;
  }

  async loadRulesVersion(): Promise<RulesVersion | null> {
    const { rows } = await this.pool.query<{ saved_at: string; saved_by: string }>(
      'SELECT saved_at, saved_by FROM alert_rule_set WHERE id = 1',
    );
    return rows[0] ? { at: Number(rows[0].saved_at), by: rows[0].saved_by } : null;
  }

  async saveRules(
    rules: readonly unknown[],
    version: RulesVersion = { at: Date.now(), by: '' },
  ): Promise<void> {
    await this.pool.query(
      `INSERT INTO alert_rule_set (id, rules, saved_at, saved_by) VALUES (1, $1::jsonb, $2, $3)
       ON CONFLICT (id) DO UPDATE SET rules = excluded.rules, saved_at = excluded.saved_at,
         saved_by = excluded.saved_by`,
      [JSON.stringify(rules), version.at, version.by],
    );
  }

  async loadOpen(): Promise<AlertEvent[]> {
    const { rows } = await this.pool.query<{ event: StoredAlertEvent }>(
      'SELECT event FROM alert_open',
    );
    return rows.map((row) => fromStored(row.event));
  }

  async loadHistory(limit: number): Promise<AlertEvent[]> {
    const { rows } = await this.pool.query<{ event: StoredAlertEvent }>(
      'SELECT event FROM alert_events ORDER BY seq DESC LIMIT $1',
      [limit],
    );
    return rows.reverse().map((row) => fromStored(row.event));
  }

  async saveEvents(
    events: readonly AlertEvent[],
    latest: readonly AlertEvent[],
    keepHistory: number,
  ): Promise<void> {
    if (events.length === 0 && latest.length === 0) return;
    const active = latest.filter((event) => event.active);
    const closed = latest.filter((event) => !event.active).map((event) => event.id);
    await inTransaction(this.pool, async (client) => {
      if (events.length > 0) {
        await client.query(
          // In the given order: `seq` is the history's order.
          `INSERT INTO alert_events (alert_id, updated_at, event)
           SELECT a, u, v FROM unnest($1::text[], $2::bigint[], $3::jsonb[])
             WITH ORDINALITY AS e(a, u, v, n)
           ORDER BY n`,
          [events.map((e) => e.id), events.map((e) => e.updatedAt), events.map(toJson)],
        );
        await client.query(
          'DELETE FROM alert_events WHERE seq <= (SELECT max(seq) FROM alert_events) - $1',
          [keepHistory],
        );
      }
      if (active.length > 0) {
        await client.query(
          `INSERT INTO alert_open (alert_id, event)
           SELECT * FROM unnest($1::text[], $2::jsonb[])
           ON CONFLICT (alert_id) DO UPDATE SET event = excluded.event`,
          [active.map((e) => e.id), active.map(toJson)],
        );
      }
      if (closed.length > 0)
        await client.query('DELETE FROM alert_open WHERE alert_id = ANY($1::text[])', [closed]);
    });
  }
}

const toJson = (event: AlertEvent): string => JSON.stringify(event);
