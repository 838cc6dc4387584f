import { Signal, WritableSignal, signal } from '@angular/core';

/*
 * How the device store tells views that something changed, at several speeds: a version signal
 * per device bumped synchronously (the page showing that device re-renders on the next frame,
 * nothing else does), a paced one per device for tiles (readings on the next frame at a rate a
 * person reads, at most 1000/paceMs times a second above it, in the same frames for every
 * device), a list revision for what changes the fleet's order or membership (devices added or
 * removed, names, groups, metric names) and a slower one for sort keys (last seen, latest
 * values, alert state), plus the old throttled `revision` of any change. Owns the
 * signals and their timers only; it must not hold device records (DeviceStore does).
 * docs/decisions/0016-overview-live-data.md says why.
 */

/** A signal bumped at most once per `ms` after a change (trailing), or at once on `flush()`. */
class ThrottledRevision {
  private readonly value = signal(0);
  readonly read = this.value.asReadonly();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly ms: number) {}

  mark(): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => this.flush(), this.ms);
  }

  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.value.update((n) => n + 1);
  }

  /** Bump now only if a change is pending (a snapshot applied: no need to wait the timer out). */
  flushPending(): void {
    if (this.timer !== null) this.flush();
  }
}

/**
 * Per-device versions for tiles. A reading bumps it on the frame after it arrives when the last
 * reading shown is at least `paceMs` old, else at the next multiple of `paceMs` on the clock, one
 * timer for every device waiting; any other change (status, names, the summary, history) bumps it
 * at once. A device read once a second changes on the next frame every time; a faster one shows
 * its newest value at most 1000/paceMs times a second, and all such tiles change in the same
 * frames: a wall of 24 devices at 10 Hz re-renders 4 frames a second, not 60 (every frame that
 * changes text costs style, layout, paint and re-layerizing the page's canvases).
 */
class PacedVersions {
  private readonly entries = new Map<
    string,
    { version: WritableSignal<number>; shownAt: number }
  >();
  /** Devices with a reading waiting for the next boundary (≤ entries). */
  private readonly waiting = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly paceMs: number) {}

  read(deviceId: string): Signal<number> {
    let entry = this.entries.get(deviceId);
    if (!entry) {
      entry = { version: signal(0), shownAt: -Infinity };
      this.entries.set(deviceId, entry);
    }
    return entry.version;
  }

  changed(deviceId: string, reading: boolean): void {
    const entry = this.entries.get(deviceId);
    if (!entry) return;
    if (!reading) {
      entry.version.update((n) => n + 1);
      return;
    }
    if (this.waiting.has(deviceId)) return;
    const t = Date.now();
    // A clock stepped back (t < shownAt) must not hold numbers up: show at once.
    if (t - entry.shownAt >= this.paceMs || t < entry.shownAt) {
      entry.shownAt = t;
      entry.version.update((n) => n + 1);
      return;
    }
    this.waiting.add(deviceId);
    this.timer ??= setTimeout(() => this.flush(), this.paceMs - (t % this.paceMs));
  }

  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const t = Date.now();
    for (const id of this.waiting) {
      const entry = this.entries.get(id);
      if (!entry) continue;
      entry.shownAt = t;
      entry.version.update((n) => n + 1);
    }
    this.waiting.clear();
  }

  forget(deviceId: string): void {
    this.entries.get(deviceId)?.version.update((n) => n + 1);
    this.entries.delete(deviceId);
    this.waiting.delete(deviceId);
  }
}

export class DeviceChanges {
  private readonly versions = new Map<string, WritableSignal<number>>();
  private readonly paced: PacedVersions;
  private readonly any: ThrottledRevision;
  private readonly list: ThrottledRevision;
  private readonly keys: ThrottledRevision;

  /** Any change, at most every `anyMs` (views that re-read everything: the wall, the alerts). */
  readonly revision: Signal<number>;
  /** Devices added or removed, a name, group or metric name changed: at most every `listMs`. */
  readonly members: Signal<number>;
  /** A sort key changed (last seen, a latest value, alert state, status): at most every `keysMs`. */
  readonly order: Signal<number>;

  constructor(anyMs: number, listMs: number, keysMs: number, paceMs: number) {
    this.paced = new PacedVersions(paceMs);
    this.any = new ThrottledRevision(anyMs);
    this.list = new ThrottledRevision(listMs);
    this.keys = new ThrottledRevision(keysMs);
    this.revision = this.any.read;
    this.members = this.list.read;
    this.order = this.keys.read;
  }

  /**
   * The version of one device's record, bumped on every change to it. Created on first read, so
   * devices nobody shows cost nothing; a view reading it re-renders the frame after a change.
   */
  version(deviceId: string): Signal<number> {
    let version = this.versions.get(deviceId);
    if (!version) this.versions.set(deviceId, (version = signal(0)));
    return version;
  }

  /**
   * The paced version of one device's record, for tiles (many devices on one screen): a reading
   * bumps it at once when the last reading shown is at least `paceMs` old, else at the next
   * `paceMs` boundary with every other device waiting; other changes bump it at once. Created on
   * first read, like {@link version}.
   */
  pacedVersion(deviceId: string): Signal<number> {
    return this.paced.read(deviceId);
  }

  /** The record of `deviceId` changed; `reading`: by a live reading (what tiles pace). */
  deviceChanged(deviceId: string, reading = false): void {
    this.versions.get(deviceId)?.update((n) => n + 1);
    this.paced.changed(deviceId, reading);
    this.any.mark();
  }

  /** The fleet's membership or a name, group or metric name changed. */
  listChanged(): void {
    this.list.mark();
    this.any.mark();
  }

  /** A sort key changed. */
  keyChanged(): void {
    this.keys.mark();
  }

  /** The device left the store: views holding its version see one last bump, then it is forgotten. */
  forget(deviceId: string): void {
    this.versions.get(deviceId)?.update((n) => n + 1);
    this.versions.delete(deviceId);
    this.paced.forget(deviceId);
    this.listChanged();
  }

  /** Bump every revision now (tests), or only those with a change pending. */
  flush(pendingOnly = false): void {
    for (const r of [this.any, this.list, this.keys]) {
      if (pendingOnly) r.flushPending();
      else r.flush();
    }
    this.paced.flush();
  }
}
