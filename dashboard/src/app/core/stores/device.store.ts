import { Injectable, Signal } from '@angular/core';
import type {
  AlertSeverity,
  DeviceInfo,
  DeviceStatus,
  DeviceSummary,
  Reading,
} from '@pulse/protocol/core';
import { DS } from '@pulse/protocol/core';
import { DeviceChanges } from './device-changes';
import type { HealthInput } from './device-health';

/*
 * The device store: one record per device, bounded, with change signals at three speeds
 * (device-changes.ts). Written only by LiveService (readings, acknowledgements, the fleet
 * summary) and read by every view; see the class below for what it must not touch.
 */

/** Most devices held in the browser; the least recently heard is evicted beyond it. */
export const MAX_DEVICES = 10_000;
/** `revision` and `members` are bumped at most this often (ms). */
export const NOTIFY_MS = 250;
/**
 * A tile's number changes on the next frame after a reading if the last reading it showed is at
 * least this old (ms), else at the next multiple of it, with every other tile waiting: at most 4
 * readings a second per tile.
 */
export const PACE_MS = 250;
/** `order` (sort keys: last seen, latest values, alerts) is bumped at most this often (ms). */
export const ORDER_MS = 1000;
/** Metric names listed fleet-wide (the sort menu); the gateway's summary table holds 256 too. */
export const MAX_FLEET_METRICS = 256;

/**
 * Distinct metric lists shared between devices (a fleet has a handful: every device of a kind
 * points at one frozen array instead of holding its own, ~90 bytes a device at 10,000); beyond
 * this many, a device gets its own list.
 */
export const MAX_SHARED_METRIC_LISTS = 1_000;
const NO_METRICS: readonly string[] = Object.freeze([]);
const NO_UNITS: Readonly<Record<string, string>> = Object.freeze({});

export interface DeviceState extends HealthInput {
  deviceId: string;
  name: string;
  group: string | null;
  units: Readonly<Record<string, string>>;
  /** Metric names in first-seen order (shared between devices with the same list: never mutate). */
  metrics: readonly string[];
  latest: Record<string, number>;
  /** Newest reading timestamp (device clock). */
  lastTs: number | null;
  /**
   * Server time `latest` is as of: a live reading's receipt, or the fleet summary's last seen.
   * A summary entry older than this never replaces the values (the device gets live readings).
   */
  valuesAt: number | null;
  /**
   * Its alerts whose condition is on (not cleared), as the fleet summary last said (highest
   * severity, count); null: none.
   */
  alert: { severity: AlertSeverity; count: number } | null;
}

/**
 * The device map: plain mutable records (written on every reading) and the signals views read
 * to re-render: {@link version} per device (bumped synchronously: a number reaches the screen
 * the frame after its reading), {@link pacedVersion} for tiles (the same at a rate a person
 * reads, at most 4 times a second above it), {@link members} and {@link order} for lists, and
 * the throttled {@link revision} of any change.
 *
 * Owns device records only (status, meta, latest values, cadence, last heard, the summary's
 * alert state) and the bound on their number. It must not write series points: LiveService
 * does, and drops a device's series when this store reports the device gone ({@link onEvict}).
 */
@Injectable({ providedIn: 'root' })
export class DeviceStore {
  private readonly devices = new Map<string, DeviceState>();
  private readonly changes = new DeviceChanges(NOTIFY_MS, NOTIFY_MS, ORDER_MS, PACE_MS);
  /** Bumped at most every {@link NOTIFY_MS} when any device changes. */
  readonly revision = this.changes.revision;
  /** Bumped at most every {@link NOTIFY_MS} when devices come or go, or a name, group or metric name changes. */
  readonly members = this.changes.members;
  /** Bumped at most every {@link ORDER_MS} when a sort key changes (last seen, values, alerts, status). */
  readonly order = this.changes.order;
  private readonly fleetMetrics = new Set<string>();
  /**
   * The shared metric lists as a trie: a list and one more metric → the shared list that makes.
   * A device's list is only ever built one metric at a time from the empty one, so the same names
   * in the same order reach the same frozen array (adding a metric is two map reads, no joining
   * of names: a 10,000-device first summary adds ~40,000). Keys are the empty list and shared
   * lists only, and each shared list is the end of one entry: {@link sharedMetricLists} bounds it.
   */
  private readonly metricLists = new Map<readonly string[], Map<string, readonly string[]>>();
  private sharedMetricLists = 0;
  private readonly evictListeners = new Set<(deviceId: string) => void>();
  /** Devices refused or evicted because of {@link MAX_DEVICES}. */
  evicted = 0;
  /**
   * Summary entries of new devices left out because the store was full. The summary lists the
   * whole fleet every time: evicting for it would push out a device that the next push brings
   * back, churning the store (and its O(n) eviction) every second.
   */
  summaryRefused = 0;

  /** Bound of the device map; tests lower it. */
  maxDevices = MAX_DEVICES;

  get(deviceId: string): DeviceState | undefined {
    return this.devices.get(deviceId);
  }

  /** Bumped synchronously on every change to this device's record (read it in the view of one device). */
  version(deviceId: string): Signal<number> {
    return this.changes.version(deviceId);
  }

  /**
   * Bumped at once on a change, but on a reading only when the last reading shown is
   * {@link PACE_MS} old, else at the next such boundary with every other device waiting (read it
   * in tiles: many devices on a screen).
   */
  pacedVersion(deviceId: string): Signal<number> {
    return this.changes.pacedVersion(deviceId);
  }

  all(): DeviceState[] {
    return [...this.devices.values()];
  }

  get size(): number {
    return this.devices.size;
  }

  /** Metric names seen across the fleet, in first-seen order (at most {@link MAX_FLEET_METRICS}). */
  metricNames(): string[] {
    return [...this.fleetMetrics];
  }

  upsertInfo(info: DeviceInfo): DeviceState {
    const device = this.ensure(info.deviceId);
    device.status = info.status;
    if (info.lastSeen !== null) device.lastHeard = Math.max(device.lastHeard ?? 0, info.lastSeen);
    if (info.lastTs !== null) device.lastTs = Math.max(device.lastTs ?? 0, info.lastTs);
    const meta = info.meta;
    this.rename(device, meta?.name ?? info.deviceId, meta?.group ?? null);
    device.units = meta?.units ?? NO_UNITS;
    device.intervalMs = meta?.intervalMs ?? null;
    for (const metric of info.metrics) this.addMetric(device, metric);
    this.inDeviceOrder(device, info.metrics);
    this.changed(device.deviceId);
    return device;
  }

  /**
   * The record's metrics in the order the device sent them (`order`, its info's: the registry's
   * first-seen order, as its page and the API list them), then any the info does not list. The
   * fleet summary adds them in the gateway's fleet-wide order, which is built anew at each boot:
   * tiles listed a device's rows in an order that changed with every restart.
   */
  private inDeviceOrder(device: DeviceState, order: readonly string[]): void {
    const current = device.metrics;
    let same = true;
    for (let i = 0; i < order.length && same; i++) same = current[i] === order[i];
    if (same) return;
    let list: readonly string[] = NO_METRICS;
    for (const metric of order) list = this.withMetric(list, metric);
    for (const metric of current) if (!order.includes(metric)) list = this.withMetric(list, metric);
    device.metrics = list;
  }

  setStatus(deviceId: string, status: DeviceStatus): void {
    const device = this.devices.get(deviceId);
    if (device && device.status !== status) {
      device.status = status;
      this.changed(deviceId);
    }
  }

  /** Call `listener` with the id of each device evicted by the bound or removed. Returns the unsubscribe. */
  onEvict(listener: (deviceId: string) => void): () => void {
    this.evictListeners.add(listener);
    return () => this.evictListeners.delete(listener);
  }

  /**
   * Apply live readings to the device records: latest values, metrics, cadence and last heard
   * (server clock at receipt, so a device with a wrong clock is not reported stale). Each
   * device's version is bumped at once, its paced version at a rate a person reads: its tile
   * shows the value on the next frame.
   */
  ingest(readings: readonly Reading[], serverNow: number): void {
    for (let r = 0; r < readings.length; r++) {
      const reading = readings[r];
      const device = this.ensure(reading.deviceId);
      const ts = reading.ts;
      if (device.lastTs !== null && ts > device.lastTs) {
        const delta = ts - device.lastTs;
        // Ignore outliers (outages) so a gap does not inflate the stale threshold.
        if (device.cadenceMs === null) device.cadenceMs = delta;
        else if (delta < device.cadenceMs * 10)
          device.cadenceMs = device.cadenceMs * 0.8 + delta * 0.2;
      }
      if (device.lastTs === null || ts >= device.lastTs) {
        device.lastTs = ts;
        for (const metric in reading.values) device.latest[metric] = reading.values[metric];
        device.valuesAt = Math.max(device.valuesAt ?? 0, serverNow);
      }
      device.lastHeard = Math.max(device.lastHeard ?? 0, serverNow);
      if (device.status === 'unknown') device.status = 'online';
      for (const metric in reading.values) this.addMetric(device, metric);
      this.changed(device.deviceId, true);
    }
  }

  /** Latest values from history, for devices we only know from an acknowledgement. */
  noteHistory(deviceId: string, metric: string, ts: number, value: number): void {
    const device = this.devices.get(deviceId);
    if (!device) return;
    this.addMetric(device, metric);
    if (!(metric in device.latest) || (device.lastTs !== null && ts >= device.lastTs))
      device.latest[metric] = value;
    this.changed(deviceId);
  }

  /**
   * Apply fleet summary entries (snapshot or delta, taken at server time `at`, values aligned
   * with `metrics`): status, last heard (`at - age`), name and group, latest values — unless the
   * device's values are newer (it receives readings) — and its alert state.
   */
  applySummary(entries: readonly DeviceSummary[], metrics: readonly string[], at: number): void {
    for (const entry of entries) {
      const id = entry[DS.id];
      if (!this.devices.has(id) && this.devices.size >= this.maxDevices) {
        this.summaryRefused++;
        continue;
      }
      const device = this.ensure(id);
      const age = entry[DS.age];
      const seen = age === null ? null : at - age;
      device.status = entry[DS.status];
      if (seen !== null) device.lastHeard = Math.max(device.lastHeard ?? 0, seen);
      this.rename(device, entry[DS.name] ?? id, entry[DS.group]);
      const values = entry[DS.values];
      const fresh = seen !== null && seen > (device.valuesAt ?? -Infinity);
      for (let i = 0; i < values.length && i < metrics.length; i++) {
        const value = values[i];
        if (value === null) continue;
        this.addMetric(device, metrics[i]);
        if (fresh || !(metrics[i] in device.latest)) device.latest[metrics[i]] = value;
      }
      if (fresh) device.valuesAt = seen;
      const alert = entry[DS.alert];
      device.alert = alert ? { severity: alert[0], count: alert[1] } : null;
      this.changed(id);
    }
  }

  /** Take devices out of the store (the fleet summary says they left); their series go too. */
  remove(deviceIds: readonly string[]): void {
    for (const id of deviceIds) {
      if (!this.devices.delete(id)) continue;
      this.changes.forget(id);
      for (const listener of this.evictListeners) listener(id);
    }
  }

  /** Bump every revision now (tests), or with `pendingOnly` those with a change waiting (after a snapshot). */
  flush(pendingOnly = false): void {
    this.changes.flush(pendingOnly);
  }

  private changed(deviceId: string, reading = false): void {
    this.changes.deviceChanged(deviceId, reading);
    this.changes.keyChanged();
  }

  private rename(device: DeviceState, name: string, group: string | null): void {
    if (device.name === name && device.group === group) return;
    device.name = name;
    device.group = group;
    this.changes.listChanged();
  }

  private addMetric(device: DeviceState, metric: string): void {
    if (device.metrics.includes(metric)) return;
    device.metrics = this.withMetric(device.metrics, metric);
    if (!this.fleetMetrics.has(metric) && this.fleetMetrics.size < MAX_FLEET_METRICS) {
      this.fleetMetrics.add(metric);
      this.changes.listChanged();
    }
  }

  /** `list` and `metric` after it, as the one shared frozen array of that list. */
  private withMetric(list: readonly string[], metric: string): readonly string[] {
    const known = this.metricLists.get(list)?.get(metric);
    if (known) return known;
    const next = Object.freeze([...list, metric]);
    // Beyond the bound the device keeps a list of its own, remembered nowhere.
    if (this.sharedMetricLists >= MAX_SHARED_METRIC_LISTS) return next;
    this.sharedMetricLists++;
    let from = this.metricLists.get(list);
    if (!from) this.metricLists.set(list, (from = new Map()));
    from.set(metric, next);
    return next;
  }

  private ensure(deviceId: string): DeviceState {
    let device = this.devices.get(deviceId);
    if (device) return device;
    if (this.devices.size >= this.maxDevices) this.evictOne();
    device = {
      deviceId,
      name: deviceId,
      group: null,
      status: 'unknown',
      units: NO_UNITS,
      metrics: NO_METRICS,
      latest: {},
      lastTs: null,
      lastHeard: null,
      cadenceMs: null,
      intervalMs: null,
      valuesAt: null,
      alert: null,
    };
    this.devices.set(deviceId, device);
    this.changes.listChanged();
    return device;
  }

  /** Evict the device heard from least recently (O(n), only when the map is full). */
  private evictOne(): void {
    let victim: DeviceState | null = null;
    for (const device of this.devices.values()) {
      if (!victim || (device.lastHeard ?? 0) < (victim.lastHeard ?? 0)) victim = device;
    }
    if (!victim) return;
    this.evicted++;
    this.remove([victim.deviceId]);
  }
}
