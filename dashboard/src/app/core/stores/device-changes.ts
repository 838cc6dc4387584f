import { Signal, WritableSignal, signal } from '@angular/core';

/*
 * How the device store tells views that something changed, at three speeds: a version signal
 * per device bumped synchronously (the tile or page showing that device re-renders on the next
 * frame, nothing else does), a list revision for what changes the fleet's order or membership
 * (devices added or removed, names, groups, metric names) and a slower one for sort keys (last
 * seen, latest values, alert state), plus the old throttled `revision` of any change. Owns the
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

export class DeviceChanges {
  private readonly versions = new Map<string, WritableSignal<number>>();
  private readonly any: ThrottledRevision;
  private readonly list: ThrottledRevision;
  private readonly keys: ThrottledRevision;

  /** Any change, at most every `anyMs` (views that re-read everything: the wall, the alerts). */
  readonly revision: Signal<number>;
  /** Devices added or removed, a name, group or metric name changed: at most every `listMs`. */
  readonly members: Signal<number>;
  /** A sort key changed (last seen, a latest value, alert state, status): at most every `keysMs`. */
  readonly order: Signal<number>;

  constructor(anyMs: number, listMs: number, keysMs: number) {
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

  /** The record of `deviceId` changed. */
  deviceChanged(deviceId: string): void {
    this.versions.get(deviceId)?.update((n) => n + 1);
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
    this.listChanged();
  }

  /** Bump every revision now (tests), or only those with a change pending. */
  flush(pendingOnly = false): void {
    for (const r of [this.any, this.list, this.keys]) {
      if (pendingOnly) r.flushPending();
      else r.flush();
    }
  }
}
