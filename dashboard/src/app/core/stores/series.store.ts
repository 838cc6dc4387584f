import { Injectable } from '@angular/core';
import type { MetricSeries } from '@pulse/protocol/core';
import { ChartSeries } from './chart-series';

/*
 * The series store: a ChartSeries per device and metric, sized by what the views pin (points or
 * time windows at the device's cadence). Written only by LiveService; views and the frame
 * scheduler read it. It must not know about the socket or draw.
 */

/** Points kept per series when no view asks for more (sparklines: ~5 min at 1 Hz). */
export const DEFAULT_SERIES_CAPACITY = 300;
/** Hard cap per series, whatever a view asks for (1 h at 1 Hz). */
export const MAX_SERIES_CAPACITY = 3600;
/** Most metrics kept per device (the contract allows 64 per reading). */
export const MAX_METRICS_PER_DEVICE = 64;
/** Headroom over window / cadence (jitter, a faster burst), and the step buffers grow by (fewer reallocations). */
const WINDOW_HEADROOM = 1.15;
const CAPACITY_STEP = 300;

/** Points needed to hold `windowMs` of a series arriving every `cadenceMs`, capped at {@link MAX_SERIES_CAPACITY}. */
export function capacityForWindow(windowMs: number, cadenceMs: number | null | undefined): number {
  const cadence = cadenceMs && cadenceMs > 0 ? cadenceMs : 500; // unknown yet: assume 2 / s
  const need = Math.ceil((windowMs / cadence) * WINDOW_HEADROOM);
  return Math.min(
    MAX_SERIES_CAPACITY,
    Math.max(CAPACITY_STEP, Math.ceil(need / CAPACITY_STEP) * CAPACITY_STEP),
  );
}

/**
 * Point buffers keyed by device, then metric. Plain data, no signals: it is
 * written on every reading and read by the frame scheduler, which compares
 * each buffer's `version` to decide what to redraw.
 */
@Injectable({ providedIn: 'root' })
export class SeriesStore {
  private readonly byDevice = new Map<string, Map<string, ChartSeries>>();
  /** Capacity asks per device (a device view wants an hour of points). */
  private readonly pins = new Map<string, number[]>();
  private defaultCapacity = DEFAULT_SERIES_CAPACITY;
  /** Time windows views need (per device, and for every device): capacity follows each device's cadence. */
  private readonly windowPins = new Map<string, number[]>();
  private defaultWindows: number[] = [];
  private readonly cadences = new Map<string, number>();
  private readonly listeners = new Set<() => void>();

  get(deviceId: string, metric: string): ChartSeries | undefined {
    return this.byDevice.get(deviceId)?.get(metric);
  }

  metricsOf(deviceId: string): string[] {
    const metrics = this.byDevice.get(deviceId);
    return metrics ? [...metrics.keys()] : [];
  }

  push(deviceId: string, metric: string, ts: number, value: number): void {
    if (this.buffer(deviceId, metric)?.push(ts, value)) this.changed();
  }

  merge(series: MetricSeries): void {
    const n = Math.min(series.t.length, series.v.length);
    // History before any live reading: its spacing is the cadence to size a window's buffer from.
    if (n > 1 && !this.cadences.has(series.deviceId))
      this.noteCadence(series.deviceId, (series.t[n - 1] - series.t[0]) / (n - 1));
    const buffer = this.buffer(series.deviceId, series.metric);
    if (!buffer) return;
    buffer.merge(series.t, series.v);
    this.changed();
  }

  /** Call `listener` after points change (the frame scheduler asks for a frame). Returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The device's observed cadence (from the device store). Buffers of devices
   * with a window pinned grow to hold the window at that cadence (never
   * shrink while pinned, so a jittery cadence does not reallocate).
   */
  noteCadence(deviceId: string, cadenceMs: number | null): void {
    if (cadenceMs === null || !(cadenceMs > 0)) return;
    const known = this.cadences.get(deviceId);
    if (known !== undefined && Math.abs(known - cadenceMs) < known * 0.1) return; // called per reading: ignore jitter
    this.cadences.set(deviceId, cadenceMs);
    if (!this.defaultWindows.length && !this.windowPins.has(deviceId)) return;
    const metrics = this.byDevice.get(deviceId);
    if (!metrics) return;
    const cap = this.capacityFor(deviceId);
    for (const buffer of metrics.values()) if (cap > buffer.maxPoints) buffer.resize(cap);
  }

  /** Keep `windowMs` of points for this device (sized from its cadence) until the returned function is called. */
  pinWindow(deviceId: string, windowMs: number): () => void {
    return this.pin(this.windowPins, deviceId, windowMs);
  }

  /** Keep `windowMs` of points for every device (the wall over the fleet or a group) until released. */
  pinDefaultWindow(windowMs: number): () => void {
    this.defaultWindows = [...this.defaultWindows, windowMs];
    for (const deviceId of this.byDevice.keys()) this.applyCapacity(deviceId);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const at = this.defaultWindows.indexOf(windowMs);
      if (at >= 0) this.defaultWindows = this.defaultWindows.filter((_, i) => i !== at);
      for (const deviceId of this.byDevice.keys()) this.applyCapacity(deviceId);
    };
  }

  /** Keep at least `capacity` points for this device until the returned function is called. */
  pinCapacity(deviceId: string, capacity: number): () => void {
    const cap = Math.min(MAX_SERIES_CAPACITY, Math.max(1, Math.floor(capacity)));
    return this.pin(this.pins, deviceId, cap);
  }

  /** Capacity for devices without a pin (the fleet view's choice). */
  setDefaultCapacity(capacity: number): void {
    this.defaultCapacity = Math.min(MAX_SERIES_CAPACITY, Math.max(1, Math.floor(capacity)));
    for (const deviceId of this.byDevice.keys()) this.applyCapacity(deviceId);
  }

  capacityFor(deviceId: string): number {
    let cap = this.defaultCapacity;
    const list = this.pins.get(deviceId);
    if (list) for (const c of list) cap = Math.max(cap, c);
    const windows = this.windowPins.get(deviceId);
    let windowMs = 0;
    if (windows) for (const w of windows) windowMs = Math.max(windowMs, w);
    for (const w of this.defaultWindows) windowMs = Math.max(windowMs, w);
    if (windowMs > 0) cap = Math.max(cap, capacityForWindow(windowMs, this.cadences.get(deviceId)));
    return Math.min(MAX_SERIES_CAPACITY, cap);
  }

  /** Forget a device (evicted from the device map). */
  drop(deviceId: string): void {
    this.byDevice.delete(deviceId);
    this.cadences.delete(deviceId);
  }

  /** Total points held, for tests and the memory check. */
  pointCount(): number {
    let n = 0;
    for (const metrics of this.byDevice.values())
      for (const buffer of metrics.values()) n += buffer.size;
    return n;
  }

  private buffer(deviceId: string, metric: string): ChartSeries | undefined {
    let metrics = this.byDevice.get(deviceId);
    if (!metrics) {
      metrics = new Map();
      this.byDevice.set(deviceId, metrics);
    }
    let buffer = metrics.get(metric);
    if (!buffer) {
      if (metrics.size >= MAX_METRICS_PER_DEVICE) return undefined;
      buffer = new ChartSeries(this.capacityFor(deviceId));
      metrics.set(metric, buffer);
    }
    return buffer;
  }

  /** Add `value` to the device's list in `pins` until the returned function (idempotent) is called. */
  private pin(pins: Map<string, number[]>, deviceId: string, value: number): () => void {
    const list = pins.get(deviceId) ?? [];
    list.push(value);
    pins.set(deviceId, list);
    this.applyCapacity(deviceId);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const current = pins.get(deviceId);
      if (!current) return;
      current.splice(current.indexOf(value), 1);
      if (current.length === 0) pins.delete(deviceId);
      this.applyCapacity(deviceId);
    };
  }

  private applyCapacity(deviceId: string): void {
    const metrics = this.byDevice.get(deviceId);
    if (!metrics) return;
    const cap = this.capacityFor(deviceId);
    for (const buffer of metrics.values()) buffer.resize(cap);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
