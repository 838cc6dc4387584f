import { Injectable } from '@angular/core';
import type { MetricSeries } from '@pulse/protocol';
import { SeriesBuffer } from './series-buffer';

/** Points kept per series when no view asks for more (sparklines: ~5 min at 1 Hz). */
export const DEFAULT_SERIES_CAPACITY = 300;
/** Hard cap per series, whatever a view asks for (1 h at 1 Hz). */
export const MAX_SERIES_CAPACITY = 3600;
/** Most metrics kept per device (the contract allows 64 per reading). */
export const MAX_METRICS_PER_DEVICE = 64;

/**
 * Point buffers keyed by device, then metric. Plain data, no signals: it is
 * written on every reading and read by the frame scheduler, which compares
 * each buffer's `version` to decide what to redraw.
 */
@Injectable({ providedIn: 'root' })
export class SeriesStore {
  private readonly byDevice = new Map<string, Map<string, SeriesBuffer>>();
  /** Capacity asks per device (a device view wants an hour of points). */
  private readonly pins = new Map<string, number[]>();
  private defaultCapacity = DEFAULT_SERIES_CAPACITY;

  get(deviceId: string, metric: string): SeriesBuffer | undefined {
    return this.byDevice.get(deviceId)?.get(metric);
  }

  metricsOf(deviceId: string): string[] {
    const metrics = this.byDevice.get(deviceId);
    return metrics ? [...metrics.keys()] : [];
  }

  push(deviceId: string, metric: string, ts: number, value: number): void {
    this.buffer(deviceId, metric)?.push(ts, value);
  }

  merge(series: MetricSeries): void {
    this.buffer(series.deviceId, series.metric)?.merge(series.t, series.v);
  }

  /** Keep at least `capacity` points for this device until the returned function is called. */
  pinCapacity(deviceId: string, capacity: number): () => void {
    const cap = Math.min(MAX_SERIES_CAPACITY, Math.max(1, Math.floor(capacity)));
    const list = this.pins.get(deviceId) ?? [];
    list.push(cap);
    this.pins.set(deviceId, list);
    this.applyCapacity(deviceId);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const current = this.pins.get(deviceId);
      if (!current) return;
      current.splice(current.indexOf(cap), 1);
      if (current.length === 0) this.pins.delete(deviceId);
      this.applyCapacity(deviceId);
    };
  }

  /** Capacity for devices without a pin (the fleet view's choice). */
  setDefaultCapacity(capacity: number): void {
    this.defaultCapacity = Math.min(MAX_SERIES_CAPACITY, Math.max(1, Math.floor(capacity)));
    for (const deviceId of this.byDevice.keys()) this.applyCapacity(deviceId);
  }

  capacityFor(deviceId: string): number {
    const list = this.pins.get(deviceId);
    return list && list.length ? Math.max(this.defaultCapacity, ...list) : this.defaultCapacity;
  }

  /** Forget a device (evicted from the device map). */
  drop(deviceId: string): void {
    this.byDevice.delete(deviceId);
  }

  /** Total points held, for tests and the memory check. */
  pointCount(): number {
    let n = 0;
    for (const metrics of this.byDevice.values()) for (const buffer of metrics.values()) n += buffer.length;
    return n;
  }

  private buffer(deviceId: string, metric: string): SeriesBuffer | undefined {
    let metrics = this.byDevice.get(deviceId);
    if (!metrics) {
      metrics = new Map();
      this.byDevice.set(deviceId, metrics);
    }
    let buffer = metrics.get(metric);
    if (!buffer) {
      if (metrics.size >= MAX_METRICS_PER_DEVICE) return undefined;
      buffer = new SeriesBuffer(this.capacityFor(deviceId));
      metrics.set(metric, buffer);
    }
    return buffer;
  }

  private applyCapacity(deviceId: string): void {
    const metrics = this.byDevice.get(deviceId);
    if (!metrics) return;
    const cap = this.capacityFor(deviceId);
    for (const buffer of metrics.values()) buffer.resize(cap);
  }
}
