import type { DeviceMeta, DeviceStatus } from '@pulse/protocol';
import type { Pool } from 'pg';
import { inTransaction, migratePg } from '../store/pg-feature-store';
import { DeviceStore, StoredDevice } from './device-store';
import { DEVICES_PG_MIGRATIONS } from './devices.migrations';

/**
 * The device registry's records on PostgreSQL (`devices` table), for deployments with
 * DATABASE_URL: every SQL statement on it, a whole flush in one multi-row upsert (`unnest`) and
 * one delete. Holds no policy (DeviceRegistryService); must not touch another feature's tables
 * nor own the pool (whoever opens it closes it).
 */

interface RawDevice {
  device_id: string;
  status: DeviceStatus;
  last_seen: string;
  last_ts: string | null;
  meta: DeviceMeta | null;
  metrics: string[];
  cadence_ms: string | null;
}

export class PgDeviceStore implements DeviceStore {
  private constructor(private readonly pool: Pool) {}

  /** Migrate (`devices-*`), then the store. */
  static async open(pool: Pool): Promise<PgDeviceStore> {
    await migratePg(pool, DEVICES_PG_MIGRATIONS);
    return new PgDeviceStore(pool);
  }

  async load(): Promise<StoredDevice[]> {
    const { rows } = await this.pool.query<RawDevice>(
      'SELECT * FROM devices ORDER BY last_seen, device_id',
    );
    // BIGINT comes back as a string (it may exceed 2^53; epoch milliseconds never do).
    return rows.map((raw) => ({
      deviceId: raw.device_id,
      status: raw.status,
      lastSeen: Number(raw.last_seen),
      lastTs: raw.last_ts === null ? null : Number(raw.last_ts),
      meta: raw.meta,
      metrics: raw.metrics,
      cadenceMs: raw.cadence_ms === null ? null : Number(raw.cadence_ms),
    }));
  }

  async save(changed: readonly StoredDevice[], removed: readonly string[]): Promise<void> {
    if (changed.length === 0 && removed.length === 0) return;
    await inTransaction(this.pool, async (client) => {
      if (changed.length > 0) {
        await client.query(
          `INSERT INTO devices (device_id, status, last_seen, last_ts, meta, metrics, cadence_ms)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::jsonb[], $6::jsonb[], $7::bigint[])
           ON CONFLICT (device_id) DO UPDATE SET status = excluded.status,
             last_seen = excluded.last_seen, last_ts = excluded.last_ts, meta = excluded.meta,
             metrics = excluded.metrics,
             cadence_ms = COALESCE(excluded.cadence_ms, devices.cadence_ms)`,
          [
            changed.map((d) => d.deviceId),
            changed.map((d) => d.status),
            changed.map((d) => d.lastSeen),
            changed.map((d) => d.lastTs),
            changed.map((d) => (d.meta === null ? null : JSON.stringify(d.meta))),
            changed.map((d) => JSON.stringify(d.metrics)),
            changed.map((d) => (d.cadenceMs == null ? null : Math.round(d.cadenceMs))),
          ],
        );
      }
      if (removed.length > 0)
        await client.query('DELETE FROM devices WHERE device_id = ANY($1::text[])', [removed]);
    });
  }
}
