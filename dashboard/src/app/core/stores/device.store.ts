import { Injectable, signal } from '@angular/core';
import type { DeviceInfo, DeviceStatus, Reading } from '@pulse/protocol/core';
import type { HealthInput } from './device-health';

/*
 * The device store: one record per device, bounded, re-rendering views at a throttled rate.
 * Written only by LiveService (and read by every view); see the class below for what it must
 * not touch.
 */

/** Most devices held in the browser; the least recently heard is evicted beyond it. */
export const MAX_DEVICES = 10_000;
/** Views re-render from the store at most this often (ms). */
export const NOTIFY_MS = 250;

export interface DeviceState extends HealthInput {
  deviceId: string;
  name: string;
  group: string | null;
  units: Record<string, string>;
  /** Metric names in first-seen order. */
  metrics: string[];
  latest: Record<string, number>;
  /** Newest reading timestamp (device clock). */
  lastTs: number | null;
}

/**
 * The device map: plain mutable records (written on every reading) plus one
 * `revision` signal, bumped at most every {@link NOTIFY_MS}, that views read
 * so they re-render at a bounded rate however fast readings arrive.
 *
 * Owns device records only (status, meta, latest values, cadence, last heard) and the bound
 * on their number. It must not write series points: LiveService does, and drops a device's
 * series when this store reports the device evicted ({@link onEvict}).
 */
@Injectable({ providedIn: 'root' })
export class DeviceStore {
  private readonly devices = new Map<string, DeviceState>();
  private readonly _revision = signal(0);
  /** Bumped (throttled) when any device changes; read it to re-render. */
  readonly revision = this._revision.asReadonly();
  private notifyTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly evictListeners = new Set<(deviceId: string) => void>();
  /** Devices refused or evicted because of {@link MAX_DEVICES}. */
  evicted = 0;

  /** Bound of the device map; tests lower it. */
  maxDevices = MAX_DEVICES;

  get(deviceId: string): DeviceState | undefined {
    return this.devices.get(deviceId);
  }

  all(): DeviceState[] {
    return [...this.devices.values()];
  }

  get size(): number {
    return this.devices.size;
  }

  upsertInfo(info: DeviceInfo): DeviceState {
    const device = this.ensure(info.deviceId);
    device.status = info.status;
    if (info.lastSeen !== null) device.lastHeard = Math.max(device.lastHeard ?? 0, info.lastSeen);
    if (info.lastTs !== null) device.lastTs = Math.max(device.lastTs ?? 0, info.lastTs);
    const meta = info.meta;
    device.name = meta?.name ?? info.deviceId;
    device.group = meta?.group ?? null;
    device.units = meta?.units ?? {};
    device.intervalMs = meta?.intervalMs ?? null;
    for (const metric of info.metrics)
      if (!device.metrics.includes(metric)) device.metrics.push(metric);
    this.notify();
    return device;
  }

  setStatus(deviceId: string, status: DeviceStatus): void {
    const device = this.devices.get(deviceId);
    if (device && device.status !== status) {
      device.status = status;
      this.notify();
    }
  }

  /** Call `listener` with the id of each device evicted by the bound. Returns the unsubscribe. */
  onEvict(listener: (deviceId: string) => void): () => void {
    this.evictListeners.add(listener);
    return () => this.evictListeners.delete(listener);
  }

  /**
   * Apply live readings to the device records: latest values, metrics, cadence and last heard
   * (server clock at receipt, so a device with a wrong clock is not reported stale).
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
      }
      device.lastHeard = Math.max(device.lastHeard ?? 0, serverNow);
      if (device.status === 'unknown') device.status = 'online';
      for (const metric in reading.values)
        if (!device.metrics.includes(metric)) device.metrics.push(metric);
    }
    if (readings.length) this.notify();
  }

  /** Latest values from history, for devices we only know from an acknowledgement. */
  noteHistory(deviceId: string, metric: string, ts: number, value: number): void {
    const device = this.devices.get(deviceId);
    if (!device) return;
    if (!device.metrics.includes(metric)) device.metrics.push(metric);
    if (!(metric in device.latest) || (device.lastTs !== null && ts >= device.lastTs))
      device.latest[metric] = value;
    this.notify();
  }

  /** Bump `revision` now (tests, or after a snapshot). */
  flush(): void {
    if (this.notifyTimer !== null) clearTimeout(this.notifyTimer);
    this.notifyTimer = null;
    this._revision.update((n) => n + 1);
  }

  private notify(): void {
    if (this.notifyTimer !== null) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = null;
      this._revision.update((n) => n + 1);
    }, NOTIFY_MS);
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
      units: {},
      metrics: [],
      latest: {},
      lastTs: null,
      lastHeard: null,
      cadenceMs: null,
      intervalMs: null,
    };
    this.devices.set(deviceId, device);
    return device;
  }

  /** Evict the device heard from least recently (O(n), only when the map is full). */
  private evictOne(): void {
    let victim: DeviceState | null = null;
    for (const device of this.devices.values()) {
      if (!victim || (device.lastHeard ?? 0) < (victim.lastHeard ?? 0)) victim = device;
    }
    if (!victim) return;
    this.devices.delete(victim.deviceId);
    this.evicted++;
    for (const listener of this.evictListeners) listener(victim.deviceId);
  }
}
