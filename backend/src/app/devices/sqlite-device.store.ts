import { Injectable } from '@nestjs/common';
import type { DeviceMeta, DeviceStatus } from '@pulse/protocol';
import { Database } from '../store/database';
import { DEVICES_MIGRATIONS } from './devices.migrations';
import { DeviceStore, StoredDevice } from './device-store';

/**
 * The device registry's records in Pulse's SQLite file (`devices` table): every SQL statement
 * on it. Holds no policy (when to write, what a restored status means: DeviceRegistryService);
 * must not touch another feature's tables.
 */

interface RawDevice {
  device_id: string;
  status: DeviceStatus;
  last_seen: number;
  last_ts: number | null;
  meta: string | null;
  metrics: string;
  cadence_ms: number | null;
}

@Injectable()
export class SqliteDeviceStore implements DeviceStore {
  constructor(private readonly database: Database) {
    database.migrate(DEVICES_MIGRATIONS);
  }

  async load(): Promise<StoredDevice[]> {
    const rows = this.database.db
      .prepare('SELECT * FROM devices ORDER BY last_seen, device_id')
      .all() as RawDevice[];
    return rows.map((raw) => ({
      deviceId: raw.device_id,
      status: raw.status,
      lastSeen: raw.last_seen,
      lastTs: raw.last_ts,
      meta: raw.meta === null ? null : (JSON.parse(raw.meta) as DeviceMeta),
      metrics: JSON.parse(raw.metrics) as string[],
      cadenceMs: raw.cadence_ms,
    }));
  }

  async save(changed: readonly StoredDevice[], removed: readonly string[]): Promise<void> {
    const { db } = this.database;
    // The gateway may be shutting down with the file already closed: nothing to write to.
    if (!db.open || (changed.length === 0 && removed.length === 0)) return;
    const upsert = db.prepare(
      `INSERT INTO devices (device_id, status, last_seen, last_ts, meta, metrics, cadence_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (device_id) DO UPDATE SET status = excluded.status,
         last_seen = excluded.last_seen, last_ts = excluded.last_ts, meta = excluded.meta,
         metrics = excluded.metrics,
         cadence_ms = COALESCE(excluded.cadence_ms, devices.cadence_ms)`,
    );
    const remove = db.prepare('DELETE FROM devices WHERE device_id = ?');
    db.transaction(() => {
      for (const d of changed) {
        const meta = d.meta === null ? null : JSON.stringify(d.meta);
        const cadence = d.cadenceMs == null ? null : Math.round(d.cadenceMs);
        upsert.run(
          d.deviceId,
          d.status,
          d.lastSeen,
          d.lastTs,
          meta,
          JSON.stringify(d.metrics),
          cadence,
        );
      }
      for (const deviceId of removed) remove.run(deviceId);
    })();
  }
}
