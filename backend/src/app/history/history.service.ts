import { Inject, Injectable } from '@nestjs/common';
import { LIMITS, MetricSeries, Reading, SeriesBuffer } from '@pulse/protocol';
import { CONFIG, Config } from '../config/config';

/**
 * Bounded in-process history: one {@link SeriesBuffer} per device + metric,
 * limited by HISTORY_WINDOW_MS (relative to the series' newest reading) and
 * HISTORY_MAX_POINTS, whichever is tighter. Devices are bounded by the
 * registry (only registered devices are recorded) and metrics per device by
 * LIMITS.maxMetricsPerReading.
 *
 * Written only by the ingest; read by the devices controller and the live subscriptions. Owns
 * the stored points; must not publish anything, know who asks, or pick a query's window and
 * point budget (its callers do).
 */
@Injectable()
export class HistoryService {
  private readonly devices = new Map<string, Map<string, SeriesBuffer>>();
  private seriesCount = 0;
  private pointCount = 0;
  private readonly windowMs: number;
  private readonly maxPoints: number;

  constructor(
    @Inject(CONFIG)
    config: Pick<Config, 'HISTORY_WINDOW_MS' | 'HISTORY_MAX_POINTS'>,
  ) {
    this.windowMs = config.HISTORY_WINDOW_MS;
    this.maxPoints = config.HISTORY_MAX_POINTS;
  }

  /** Record readings of one device (hot path: plain loops). */
  record(deviceId: string, readings: readonly Reading[]): void {
    let series = this.devices.get(deviceId);
    if (!series) {
      series = new Map();
      this.devices.set(deviceId, series);
    }
    for (let i = 0; i < readings.length; i++) {
      const { ts, values } = readings[i];
      for (const metric in values) {
        let buffer = series.get(metric);
        if (!buffer) {
          if (series.size >= LIMITS.maxMetricsPerReading) continue;
          buffer = new SeriesBuffer(this.maxPoints);
          series.set(metric, buffer);
          this.seriesCount++;
        }
        this.pointCount += buffer.insert(ts, values[metric], this.windowMs);
      }
    }
  }

  /**
   * History of one device between `from` and `to` (inclusive), at most
   * `maxPoints` per metric (the most recent ones), optionally only `metrics`.
   */
  query(
    deviceId: string,
    from = -Infinity,
    to = Infinity,
    maxPoints = Infinity,
    metrics?: readonly string[],
    pick: 'latest' | 'spread' = 'latest',
  ): MetricSeries[] {
    const series = this.devices.get(deviceId);
    if (!series) return [];
    const out: MetricSeries[] = [];
    const names = metrics && metrics.length > 0 ? metrics : series.keys();
    for (const metric of names) {
      const buffer = series.get(metric);
      if (!buffer) continue;
      const { t, v } = buffer.range(from, to, maxPoints, pick);
      if (t.length > 0) out.push({ deviceId, metric, t, v });
    }
    return out;
  }

  stats(): { series: number; points: number } {
    return { series: this.seriesCount, points: this.pointCount };
  }
}
