import { Injectable } from '@nestjs/common';
import type { DeviceCredentialInfo } from '@pulse/protocol';
import { Database } from '../store/database';
import { DEVICE_CREDENTIALS_MIGRATIONS } from './device-credentials.migrations';

/**
 * Every SQL statement on `device_credentials` and `bridge_credentials`: the one place they are
 * read or written. Holds no policy (DeviceCredentialsService, BridgeCredentialsService) and must
 * not touch another feature's tables.
 */
/** Last-connect times are written at most this often, all together (one transaction). */
export const LAST_CONNECT_FLUSH_MS = 5000;

export interface DeviceCredentialRow extends DeviceCredentialInfo {
  secretHash: string;
}

export interface BridgeCredentialRow {
  name: string;
  secretHash: string;
  createdAt: number;
  lastConnectAt: number | null;
  /** The client id it last connected with; null before its first connect. */
  clientId: string | null;
}

interface RawRow {
  device_id: string;
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
  last_connect_at: number | null;
}

const toRow = (raw: RawRow): DeviceCredentialRow => ({
  deviceId: raw.device_id,
  secretHash: raw.secret_hash,
  createdAt: raw.created_at,
  revokedAt: raw.revoked_at,
  lastConnectAt: raw.last_connect_at,
});

@Injectable()
export class DeviceCredentialsRepository {
  constructor(private readonly database: Database) {
    database.migrate(DEVICE_CREDENTIALS_MIGRATIONS);
  }

  private get db() {
    return this.database.db;
  }

  all(): DeviceCredentialRow[] {
    const rows = this.db
      .prepare('SELECT * FROM device_credentials ORDER BY device_id')
      .all() as RawRow[];
    return rows.map(toRow);
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM device_credentials').get() as { n: number })
      .n;
  }

  /** A new secret for the device (created, or replacing a live or revoked one). */
  upsert(deviceId: string, secretHash: string, now: number): void {
    this.db
      .prepare(
        `INSERT INTO device_credentials (device_id, secret_hash, created_at, revoked_at, last_connect_at)
         VALUES (?, ?, ?, NULL, NULL)
         ON CONFLICT (device_id) DO UPDATE SET
           secret_hash = excluded.secret_hash, created_at = excluded.created_at, revoked_at = NULL`,
      )
      .run(deviceId, secretHash, now);
  }

  /** False when the device has no credentials. Revoking twice keeps the first time. */
  revoke(deviceId: string, now: number): boolean {
    return (
      this.db
        .prepare(
          'UPDATE device_credentials SET revoked_at = COALESCE(revoked_at, ?) WHERE device_id = ?',
        )
        .run(now, deviceId).changes === 1
    );
  }

  /** Last-connect times, written together in one transaction (one fsync, not one per device). */
  recordConnects(times: ReadonlyMap<string, number>): void {
    const update = this.db.prepare(
      'UPDATE device_credentials SET last_connect_at = ? WHERE device_id = ?',
    );
    this.db.transaction(() => {
      for (const [deviceId, at] of times) update.run(at, deviceId);
    })();
  }

  allBridges(): BridgeCredentialRow[] {
    const rows = this.db.prepare('SELECT * FROM bridge_credentials ORDER BY name').all() as {
      name: string;
      secret_hash: string;
      created_at: number;
      last_connect_at: number | null;
      client_id: string | null;
    }[];
    return rows.map((raw) => ({
      name: raw.name,
      secretHash: raw.secret_hash,
      createdAt: raw.created_at,
      lastConnectAt: raw.last_connect_at,
      clientId: raw.client_id,
    }));
  }

  /** A new secret for the bridge (created, or replacing its current one). */
  upsertBridge(name: string, secretHash: string, now: number): void {
    this.db
      .prepare(
        `INSERT INTO bridge_credentials (name, secret_hash, created_at, last_connect_at)
         VALUES (?, ?, ?, NULL)
         ON CONFLICT (name) DO UPDATE SET
           secret_hash = excluded.secret_hash, created_at = excluded.created_at`,
      )
      .run(name, secretHash, now);
  }

  /** The client id a bridge connected with, replacing the one before. */
  setBridgeClientId(name: string, clientId: string): void {
    this.db
      .prepare('UPDATE bridge_credentials SET client_id = ? WHERE name = ?')
      .run(clientId, name);
  }

  /** False when no bridge has this name. */
  deleteBridge(name: string): boolean {
    return this.db.prepare('DELETE FROM bridge_credentials WHERE name = ?').run(name).changes === 1;
  }

  /** Bridges' last-connect times, in one transaction. */
  recordBridgeConnects(times: ReadonlyMap<string, number>): void {
    const update = this.db.prepare(
      'UPDATE bridge_credentials SET last_connect_at = ? WHERE name = ?',
    );
    this.db.transaction(() => {
      for (const [name, at] of times) update.run(at, name);
    })();
  }
}
