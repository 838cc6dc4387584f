import { Injectable, computed, signal } from '@angular/core';
import type { AlertEvent, AlertSeverity } from '@pulse/protocol/core';
import { ALERT_SEVERITIES, isConditionOn } from '@pulse/protocol/core';

/*
 * The alert store: active alerts and recent lifecycle events as signals, plus the pure ordering
 * and counting helpers the views share. Written only by LiveService, with events AlertInput has
 * checked (the store trusts every field); it must not fetch, read the socket or know about rules.
 */

/**
 * Most active alerts held (beyond it the last in {@link compareAlerts} order are dropped: cleared
 * ones first, then the least severe, oldest): twice the 5,000-alert storm the alerts page is built
 * and tested for (decision 0017).
 */
export const MAX_ACTIVE_ALERTS = 10_000;
/** Lifecycle events kept for the "recent" list (newest first). */
export const MAX_RECENT_ALERTS = 200;

/** 0 = critical … 4 = info. */
export function severityRank(severity: AlertSeverity): number {
  return ALERT_SEVERITIES.indexOf(severity);
}

/** Nobody has acknowledged it yet (raised, flapping, or cleared without an acknowledgement). */
export function isUnacknowledged(alert: AlertEvent): boolean {
  return alert.acknowledgedAt === null && alert.state !== 'acknowledged';
}

/**
 * Order of the active list: alerts whose condition is on before cleared ones waiting for an
 * acknowledgement; then most severe first, newest raised first, then id (stable).
 */
export function compareAlerts(a: AlertEvent, b: AlertEvent): number {
  return (
    Number(isConditionOn(b)) - Number(isConditionOn(a)) ||
    severityRank(a.severity) - severityRank(b.severity) ||
    b.raisedAt - a.raisedAt ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/**
 * What a device's badge, wall tile or heat-map cell shows of its alerts: severity and counts of
 * those whose condition is on, and apart how many cleared and wait for an acknowledgement.
 */
export interface DeviceAlertSummary {
  /** Highest severity of its alerts whose condition is on; null when every one has cleared. */
  severity: AlertSeverity | null;
  /** Its alerts whose condition is on. */
  count: number;
  /** Of those, the ones nobody has acknowledged yet. */
  unacknowledged: number;
  /** Its alerts that cleared and wait for an acknowledgement. */
  cleared: number;
}

export type SeverityCounts = Record<AlertSeverity, number>;

/**
 * The active alerts (on every connect the gateway's list, as the `alerts` snapshot or read over
 * HTTP, then `alert` deltas) and a bounded list of recent lifecycle events. Plain code fed by the
 * live service; views read the signals.
 *
 * Cheap under a storm: an event updates the map and bumps a version (O(1)); the sorted list is
 * a lazy `computed`, so it is rebuilt once when a view next reads it (once per change detection,
 * i.e. per frame), however many events arrived since. Never one sort per event.
 */
@Injectable({ providedIn: 'root' })
export class AlertStore {
  private readonly byId = new Map<string, AlertEvent>();
  /** Bumped on every change of {@link byId}; the lists below recompute from it when read. */
  private readonly version = signal(0);
  /** Active alerts, most severe first, newest first; at most {@link maxActive}. */
  readonly active = computed<readonly AlertEvent[]>(() => {
    this.version();
    return [...this.byId.values()].sort(compareAlerts);
  });
  private readonly _recent = signal<readonly AlertEvent[]>([]);
  /** Lifecycle events received live, newest first; at most {@link maxRecent}. */
  readonly recent = this._recent.asReadonly();
  private readonly _snapshots = signal(0);
  /** Snapshots received (0 until the gateway has sent the first: "unknown", not "no alerts"). */
  readonly snapshots = this._snapshots.asReadonly();
  /** Alerts dropped because of {@link maxActive}. */
  dropped = 0;

  maxActive = MAX_ACTIVE_ALERTS;
  maxRecent = MAX_RECENT_ALERTS;

  /** One pass over the list for {@link counts} and {@link toAcknowledge}. */
  private readonly tally = computed(() => {
    const on = emptyCounts();
    let cleared = 0;
    for (const alert of this.active())
      if (isConditionOn(alert)) on[alert.severity]++;
      else cleared++;
    return { on, cleared };
  });
  /** Active alerts whose condition is on, per severity (what the header's coloured pills count). */
  readonly counts = computed<SeverityCounts>(() => this.tally().on);
  /** Active alerts whose condition cleared and that nobody has acknowledged yet. */
  readonly toAcknowledge = computed(() => this.tally().cleared);

  /**
   * Per device (see {@link DeviceAlertSummary}). The list is sorted with alerts whose condition is
   * on first, most severe first: the first seen of a device gives its severity, or none.
   */
  readonly byDevice = computed(() => {
    const map = new Map<string, DeviceAlertSummary>();
    for (const alert of this.active()) {
      const on = isConditionOn(alert);
      let entry = map.get(alert.deviceId);
      if (!entry)
        map.set(
          alert.deviceId,
          (entry = {
            severity: on ? alert.severity : null,
            count: 0,
            unacknowledged: 0,
            cleared: 0,
          }),
        );
      if (!on) entry.cleared++;
      else {
        entry.count++;
        if (isUnacknowledged(alert)) entry.unacknowledged++;
      }
    }
    return map;
  });

  get(id: string): AlertEvent | undefined {
    return this.byId.get(id);
  }

  /** Active alerts held now (without building the sorted list). */
  get size(): number {
    return this.byId.size;
  }

  /**
   * Replace the active list with the gateway's (its snapshot, or the list read over HTTP on every
   * (re)connect), then apply `after`: changes newer than the list, already applied and listed as
   * recent while it was read (decision 0054).
   */
  replaceAll(alerts: readonly AlertEvent[], after: readonly AlertEvent[] = []): void {
    this.byId.clear();
    for (const alert of alerts) if (alert.active) this.byId.set(alert.id, alert);
    for (const alert of after) {
      if (alert.active) this.byId.set(alert.id, alert);
      else this.byId.delete(alert.id);
    }
    if (this.byId.size > this.maxActive) {
      // Once per snapshot: keep the most severe, newest.
      const keep = [...this.byId.values()].sort(compareAlerts);
      for (const extra of keep.splice(this.maxActive)) this.drop(extra.id);
    }
    this._snapshots.update((n) => n + 1);
    this.changed();
  }

  /**
   * Apply one lifecycle event (deltas arrive in order on one socket). One the recent list already
   * holds (same alert, state and time: a gateway that took over a dead one's devices re-sends the
   * alerts it adopted) changes nothing and is not listed twice.
   */
  apply(alert: AlertEvent): void {
    const recent = this._recent();
    for (const seen of recent)
      if (seen.id === alert.id && seen.updatedAt === alert.updatedAt && seen.state === alert.state)
        return;
    this.put(alert);
    const next = [alert, ...recent];
    if (next.length > this.maxRecent) next.length = this.maxRecent;
    this._recent.set(next);
    this.changed();
  }

  /**
   * Apply the alert returned by an acknowledgement, unless a newer event for it
   * already arrived (the broadcast `alert` usually comes first and says the same).
   */
  applyIfNewer(alert: AlertEvent): void {
    const held = this.byId.get(alert.id);
    if (!held) return; // already dropped (cleared and acknowledged) or never known
    if (
      held.updatedAt > alert.updatedAt ||
      (held.acknowledgedAt !== null && held.updatedAt === alert.updatedAt)
    )
      return;
    this.put(alert);
    this.changed();
  }

  private put(alert: AlertEvent): void {
    if (!alert.active) {
      this.byId.delete(alert.id);
      return;
    }
    this.byId.set(alert.id, alert);
    // Over the bound (a storm beyond it): one linear scan for the least severe, oldest.
    if (this.byId.size > this.maxActive) {
      let last: AlertEvent | null = null;
      for (const held of this.byId.values())
        if (!last || compareAlerts(held, last) > 0) last = held;
      if (last) this.drop(last.id);
    }
  }

  private drop(id: string): void {
    this.byId.delete(id);
    this.dropped++;
  }

  private changed(): void {
    this.version.update((n) => n + 1);
  }
}

export function emptyCounts(): SeverityCounts {
  return { critical: 0, major: 0, minor: 0, warning: 0, info: 0 };
}
