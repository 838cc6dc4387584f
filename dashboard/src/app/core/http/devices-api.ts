import { Injectable, inject } from '@angular/core';
import type { DeviceOrigin, HistoryResponse, MetricSeries } from '@pulse/protocol/core';
import { FETCH } from './alerts-api';

/*
 * The device reads the dashboard makes over HTTP besides the live socket: a device's origin (its
 * ingest source and the fields its format left out) and a long range of one metric's history
 * (a chart's 6h / 24h / 7d window). Owns the URLs; holds no state.
 */
@Injectable({ providedIn: 'root' })
export class DevicesApi {
  private readonly fetch = inject(FETCH);

  /** `GET /api/devices/:id/origin`; null when it cannot be read (unknown device, offline gateway). */
  async origin(deviceId: string): Promise<DeviceOrigin | null> {
    try {
      const res = await this.fetch(`/api/devices/${encodeURIComponent(deviceId)}/origin`, {
        headers: { accept: 'application/json' },
      });
      if (!res.ok) return null;
      const body = (await res.json()) as DeviceOrigin;
      return body && Array.isArray(body.skipped) ? body : null;
    } catch {
      return null;
    }
  }

  /**
   * `GET /api/devices/:id/history` of one metric over `[from, to)`, downsampled by the gateway
   * to `maxPoints` (each bucket's lowest and highest reading); null when it cannot be read.
   */
  async history(
    deviceId: string,
    metric: string,
    range: { from: number; to: number; maxPoints: number },
  ): Promise<MetricSeries | null> {
    const query = new URLSearchParams({
      from: String(Math.floor(range.from)),
      to: String(Math.ceil(range.to)),
      maxPoints: String(range.maxPoints),
      metrics: metric,
    });
    try {
      const res = await this.fetch(
        `/api/devices/${encodeURIComponent(deviceId)}/history?${query}`,
        { headers: { accept: 'application/json' } },
      );
      if (!res.ok) return null;
      const body = (await res.json()) as HistoryResponse;
      const series = body?.series?.find((s) => s.metric === metric);
      if (!series) return body && Array.isArray(body.series) ? emptySeries(deviceId, metric) : null;
      return Array.isArray(series.t) && Array.isArray(series.v) ? series : null;
    } catch {
      return null;
    }
  }
}

function emptySeries(deviceId: string, metric: string): MetricSeries {
  return { deviceId, metric, t: [], v: [] };
}

/** A skipped field's reason in words, for the device view. */
export const SKIP_REASON_WORDS: Record<string, string> = {
  string: 'text',
  null: 'null',
  array: 'list',
  type: 'not a number',
  not_finite: 'not finite',
  timestamp: 'unreadable time',
};
