import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { AlertEvent, formatAlertsVersion } from '@pulse/protocol';

/**
 * How long one built active list answers `GET /api/alerts` while no `alert` event went out. An
 * event drops it at once; the bound covers the changes no event tells of (a peer's alerts
 * released to another gateway, decision 0029), as a new client's in-stream snapshot would see them.
 */
export const ALERTS_SNAPSHOT_TTL_MS = 1000;

/** The encodings a cached list is kept in: what browsers ask for first, and the plain form. */
export type SnapshotEncoding = 'br' | 'gzip' | 'identity';

/** The active list at one version, built once and encoded once per encoding asked for. */
export class AlertsSnapshotEntry {
  private readonly bodies = new Map<SnapshotEncoding, Buffer>();

  constructor(
    readonly version: string,
    readonly alerts: readonly AlertEvent[],
    readonly builtAt: number,
  ) {}

  /** `{alerts, version}` as JSON, compressed as asked: built on the first call, then kept. */
  body(encoding: SnapshotEncoding): Buffer {
    let body = this.bodies.get(encoding);
    if (body) return body;
    if (encoding === 'identity') {
      body = Buffer.from(JSON.stringify({ alerts: this.alerts, version: this.version }));
    } else {
      const plain = this.body('identity');
      // Brotli at quality 4, as 0047's middleware compresses dynamic answers: fast, and close to
      // gzip's best on JSON. Once per version, not per client.
      body =
        encoding === 'br'
          ? brotliCompressSync(plain, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } })
          : gzipSync(plain);
    }
    this.bodies.set(encoding, body);
    return body;
  }
}

/**
 * The gateway's active-list version and the list built at it (docs/decisions/0054): every
 * `alert` event the emitter sends is one change (`v`), and a client that reads the list over
 * HTTP applies only the events past the version the list answered with.
 *
 * The version is `<boot>.<n>`: `boot` is random per process, so a client can tell a list read
 * from another gateway (or this one after a restart), whose numbers do not follow its socket's.
 *
 * Bounded: one entry (the newest list), dropped at the next change or after
 * {@link ALERTS_SNAPSHOT_TTL_MS}; its encodings are at most three buffers of the list.
 */
@Injectable()
export class AlertsSnapshot {
  readonly boot = randomBytes(9).toString('base64url');
  private changes = 0;
  private entry: AlertsSnapshotEntry | null = null;
  /** The clock of the TTL (tests set their own). */
  now: () => number = Date.now;

  /** One change of the active list: its number (an `alert` event's `v`). */
  changed(): number {
    this.entry = null;
    return ++this.changes;
  }

  version(): string {
    return formatAlertsVersion({ boot: this.boot, n: this.changes });
  }

  /** The list at the current version: `build`'s, once per version and TTL. */
  current(build: () => AlertEvent[]): AlertsSnapshotEntry {
    const now = this.now();
    const entry = this.entry;
    if (entry && now - entry.builtAt < ALERTS_SNAPSHOT_TTL_MS) return entry;
    // `build` runs synchronously after reading the version: no event can go out in between.
    const version = this.version();
    this.entry = new AlertsSnapshotEntry(version, build(), now);
    return this.entry;
  }
}
