import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { AlertEvent, formatAlertsVersion } from '@pulse/protocol';

/**
 * How long one built active list answers `GET /api/alerts` while its version stands. A change
 * drops it at once (every `alert` event, and the alerts this gateway releases to another, 0029);
 * the bound is a backstop for a change that moved nothing, as a new client's in-stream snapshot
 * would see it.
 */
export const ALERTS_SNAPSHOT_TTL_MS = 1000;

/** The encodings a cached list is kept in: what browsers ask for first, and the plain form. */
export type SnapshotEncoding = 'br' | 'gzip' | 'identity';

const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);
/** Brotli at quality 4, as 0047's middleware compresses dynamic answers: fast, close to gzip's best on JSON. */
const BROTLI = { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } };

let entries = 0;

/**
 * Group scopes whose part of one version's list is kept: a wall of screens paired to a few
 * groups shares them; past it, a scope's part is built for each request.
 */
export const ALERTS_SNAPSHOT_SCOPES = 64;

/** The active list at one version, built once and encoded once per encoding asked for. */
export class AlertsSnapshotEntry {
  private plain: Buffer | null = null;
  private readonly scopes = new Map<string, AlertsSnapshotEntry>();
  private readonly compressed = new Map<'br' | 'gzip', Promise<Buffer>>();
  /** Names this entry's bytes (a validator: a rebuild at the same version is another entry). */
  readonly tag = `${++entries}`;

  constructor(
    readonly version: string,
    readonly alerts: readonly AlertEvent[],
    readonly builtAt: number,
  ) {}

  /**
   * The part of the list a group scope sees (`key` names the scope, `select` picks it), kept
   * with this entry for the first {@link ALERTS_SNAPSHOT_SCOPES} scopes: it goes when the entry
   * does (the next change, or the TTL, which also bounds how long a device that changed group
   * is seen in its old one).
   */
  scoped(
    key: string,
    select: (alerts: readonly AlertEvent[]) => AlertEvent[],
  ): AlertsSnapshotEntry {
    const kept = this.scopes.get(key);
    if (kept) return kept;
    const part = new AlertsSnapshotEntry(this.version, select(this.alerts), this.builtAt);
    if (this.scopes.size < ALERTS_SNAPSHOT_SCOPES) this.scopes.set(key, part);
    return part;
  }

  /**
   * `{alerts, version}` as JSON, compressed as asked: made on the first call, then kept (the
   * compression on libuv's thread pool, not the event loop; callers of one version share it).
   */
  body(encoding: SnapshotEncoding): Promise<Buffer> {
    this.plain ??= Buffer.from(JSON.stringify({ alerts: this.alerts, version: this.version }));
    if (encoding === 'identity') return Promise.resolve(this.plain);
    let body = this.compressed.get(encoding);
    if (!body) {
      body = encoding === 'br' ? brotli(this.plain, BROTLI) : gzipped(this.plain);
      this.compressed.set(encoding, body);
    }
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
 * {@link ALERTS_SNAPSHOT_TTL_MS}; its encodings are at most three buffers of the list (a
 * request still sending an older entry's holds that one until it is sent).
 *
 * In `common/`: the live layer numbers the events, the alerts controller answers the list and
 * the alerts service moves the version for changes no event tells of.
 */
@Injectable()
export class AlertsSnapshot {
  readonly boot = randomBytes(9).toString('base64url');
  private changes = 0;
  private entry: AlertsSnapshotEntry | null = null;
  /** The clock of the TTL, monotonic (tests set their own). */
  now: () => number = () => performance.now();

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
