import { Inject, Injectable, Optional } from '@nestjs/common';
import { LIMITS, MetricSeries, Reading, SeriesBuffer } from '@pulse/protocol';
import { CONFIG, Config, sharesIngest } from '../config/config';
import { HistoryWriter } from './history-writer.service';

/**
 * Several gateways sharing the ingest (sharesIngest): how long after a gateway received a reading
 * the shared store is taken to hold it. Each gateway stores what it ingested every
 * HISTORY_FLUSH_MS, a device's values held up to HISTORY_HOLD_MS; twice the flush plus 2 s
 * covers a write that takes a while.
 */
export function storeLagMs(
  config: Pick<Config, 'HISTORY_FLUSH_MS'> & Partial<Pick<Config, 'HISTORY_HOLD_MS'>>,
): number {
  return 2 * config.HISTORY_FLUSH_MS + (config.HISTORY_HOLD_MS ?? 0) + 2_000;
}

/** Lowest ts a series took in its current arrival epoch and in the one before. */
interface Arrivals {
  epoch: number;
  low: number;
  previousLow: number;
}

/**
 * Bounded in-process history: one {@link SeriesBuffer} per device + metric,
 * limited by HISTORY_WINDOW_MS (relative to the series' newest reading) and
 * HISTORY_MAX_POINTS, whichever is tighter. Devices are bounded by the
 * registry (only registered devices are recorded) and metrics per device by
 * LIMITS.maxMetricsPerReading. All points together are bounded by
 * HISTORY_MAX_TOTAL_POINTS: the ingest evicts idle devices ({@link forget}) while
 * {@link overBudget}; with none idle enough, a point that would add to a full total
 * replaces its series' oldest instead (or is not kept, for a series of one point or a new
 * one), counted in `overBudget`.
 *
 * The recent window in front of the durable store: {@link record} also queues every reading
 * for the {@link HistoryWriter} (when there is one), and {@link edge} tells from which ts a
 * series here is complete, so the history reader takes older points from the store
 * (docs/decisions/0021).
 *
 * Written only by the ingest; read by the history reader and the live subscriptions. Owns
 * the points in memory; must not publish anything, know who asks, or pick a query's window and
 * point budget (its callers do).
 */
@Injectable()
export class HistoryService {
  private readonly devices = new Map<string, Map<string, SeriesBuffer>>();
  /** ts of the first point each series held: a late point below it does not make it complete. */
  private readonly since = new WeakMap<SeriesBuffer, number>();
  /** Series that gave up points to the total budget. */
  private readonly shedFrom = new WeakSet<SeriesBuffer>();
  private seriesCount = 0;
  private pointCount = 0;
  private overBudgetCount = 0;
  private readonly windowMs: number;
  private readonly maxPoints: number;
  private readonly maxTotal: number;
  /**
   * With a shared ingest: per series, the lowest ts taken in the last one to two epochs of
   * storeLagMs (by receive time), so a reader knows which older points may not be stored yet.
   */
  private readonly arrivals: WeakMap<SeriesBuffer, Arrivals> | null;
  private readonly epochMs: number;

  constructor(
    @Inject(CONFIG)
    config: Pick<Config, 'HISTORY_WINDOW_MS' | 'HISTORY_MAX_POINTS'> &
      Partial<
        Pick<
          Config,
          | 'HISTORY_MAX_TOTAL_POINTS'
          | 'HISTORY_FLUSH_MS'
          | 'HISTORY_HOLD_MS'
          | 'REDIS_URL'
          | 'MQTT_URL'
        >
      >,
    /** The durable store's queue (absent in unit specs of the window alone). */
    @Optional() private readonly writer?: HistoryWriter,
  ) {
    this.windowMs = config.HISTORY_WINDOW_MS;
    this.maxPoints = config.HISTORY_MAX_POINTS;
    this.maxTotal = config.HISTORY_MAX_TOTAL_POINTS ?? 20_000_000;
    this.arrivals = sharesIngest(config) ? new WeakMap() : null;
    this.epochMs = storeLagMs({
      HISTORY_FLUSH_MS: config.HISTORY_FLUSH_MS ?? 500,
      HISTORY_HOLD_MS: config.HISTORY_HOLD_MS,
    });
  }

  /** Whether all points together have reached HISTORY_MAX_TOTAL_POINTS. */
  get overBudget(): boolean {
    return this.pointCount >= this.maxTotal;
  }

  /**
   * While the durable store's queue is full: a promise of room, for the ingest to hold the
   * broker's acknowledgement on; else null (acknowledge at once).
   */
  backpressure(): Promise<void> | null {
    return this.writer?.saturated ? this.writer.whenAccepting() : null;
  }

  /** Drop every series of a device (evicted from the registry). */
  forget(deviceId: string): void {
    const series = this.devices.get(deviceId);
    if (!series) return;
    for (const buffer of series.values()) this.pointCount -= buffer.size;
    this.seriesCount -= series.size;
    this.devices.delete(deviceId);
  }

  /**
   * Record readings of one device (hot path: plain loops). `durable`: they came in a QoS 1
   * message, journaled before its acknowledgement (see HistoryWriter).
   */
  record(deviceId: string, readings: readonly Reading[], durable = false): void {
    this.writer?.enqueue(deviceId, readings, durable);
    this.remember(deviceId, readings);
  }

  /**
   * Readings kept in the window only: what another gateway ingested and stores (several
   * gateways: relayed to this one's screens, or sent as a catch-up), or a dead gateway's
   * journal the survivor has just written.
   */
  remember(deviceId: string, readings: readonly Reading[]): void {
    const epoch = this.arrivals ? Math.floor(Date.now() / this.epochMs) : 0;
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
          if (this.pointCount >= this.maxTotal) {
            this.overBudgetCount++;
            continue;
          }
          buffer = new SeriesBuffer(this.maxPoints);
          this.since.set(buffer, ts);
          series.set(metric, buffer);
          this.seriesCount++;
        }
        // Outside the window (older than its newest by more): refused below, and not an arrival.
        if (this.arrivals && ts >= buffer.newest - this.windowMs) this.arrived(buffer, ts, epoch);
        const added = buffer.insert(ts, values[metric], this.windowMs);
        this.pointCount += added;
        if (added > 0 && this.pointCount > this.maxTotal) this.shed(buffer);
      }
    }
  }

  private arrived(buffer: SeriesBuffer, ts: number, epoch: number): void {
    const arrivals = (this.arrivals as WeakMap<SeriesBuffer, Arrivals>).get(buffer);
    if (!arrivals) {
      this.arrivals?.set(buffer, { epoch, low: ts, previousLow: Infinity });
      return;
    }
    if (arrivals.epoch !== epoch) {
      arrivals.previousLow = arrivals.epoch === epoch - 1 ? arrivals.low : Infinity;
      arrivals.low = Infinity;
      arrivals.epoch = epoch;
    }
    if (ts < arrivals.low) arrivals.low = ts;
  }

  /**
   * With a shared ingest: the lowest ts of the series taken in the last storeLagMs at least (up
   * to twice that) by receive time, +Infinity when none (or without a shared ingest). Points
   * from there on may not be in the store yet, whatever their ts.
   */
  receivedLow(deviceId: string, metric: string): number {
    const buffer = this.devices.get(deviceId)?.get(metric);
    const arrivals = buffer && this.arrivals?.get(buffer);
    if (!arrivals) return Infinity;
    const epoch = Math.floor(Date.now() / this.epochMs);
    if (arrivals.epoch === epoch) return Math.min(arrivals.low, arrivals.previousLow);
    return arrivals.epoch === epoch - 1 ? arrivals.low : Infinity;
  }

  /** Over the total by one point: the series just written gives up its oldest (maybe that one). */
  private shed(buffer: SeriesBuffer): void {
    this.overBudgetCount++;
    this.shedFrom.add(buffer);
    // pruneBefore drops every point older than the second oldest: exactly one (ts are unique).
    this.pointCount -= buffer.size > 1 ? buffer.pruneBefore(buffer.tAt(1)) : 0;
  }

  /**
   * The ts from which this window holds every point of the series received since it was
   * started here (its first point, or where dropped points end); +Infinity when it holds
   * none. Older points are the store's to answer.
   */
  edge(deviceId: string, metric: string): number {
    const buffer = this.devices.get(deviceId)?.get(metric);
    if (!buffer || buffer.size === 0) return Infinity;
    const since = this.since.get(buffer) ?? -Infinity;
    // Points that left by the point cap or the total budget: complete from the oldest held
    // only. Points that left by the window: complete from newest − window (older are refused).
    if (buffer.size >= buffer.maxPoints || this.shedFrom.has(buffer))
      return Math.max(since, buffer.tAt(0));
    return Math.max(since, Math.min(buffer.tAt(0), buffer.newest - this.windowMs));
  }

  /** Devices with points held. */
  deviceIds(): IterableIterator<string> {
    return this.devices.keys();
  }

  /** Metric names held for a device. */
  metricsOf(deviceId: string): string[] {
    return [...(this.devices.get(deviceId)?.keys() ?? [])];
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

  stats(): { series: number; points: number; limit: number; overBudget: number } {
    return {
      series: this.seriesCount,
      points: this.pointCount,
      limit: this.maxTotal,
      overBudget: this.overBudgetCount,
    };
  }
}
