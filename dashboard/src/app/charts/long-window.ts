import type { MetricSeries } from '@pulse/protocol/core';
import { BucketSeries } from './bucket-series';
import { BucketPlan, bucketPlan } from './chart-windows';
import type { SeriesView } from './window-projection';

/*
 * The data of one chart's long window (6h, 24h, 7d): the bucket plan for its width, the
 * downsampled range loaded once from the gateway, and the live series folded in at the right
 * edge on every frame, so the window keeps sliding without asking again (a bucketed chart
 * folds live readings into its newest bucket, docs/decisions/0021). Owns its buckets and the
 * load's state; the HTTP call is the caller's `load`, the drawing the chart's.
 */

/** Reads `[plan.from, plan.to)` of one metric downsampled to `plan.maxPoints`; null on failure. */
export type RangeLoad = (
  deviceId: string,
  metric: string,
  plan: BucketPlan,
) => Promise<MetricSeries | null>;

/** A failed load is tried again after this long (the gateway may be restarting). */
export const RANGE_RETRY_MS = 5_000;

export type RangeState = 'loading' | 'loaded' | 'failed';

export class LongWindow {
  private current: {
    key: string;
    plan: BucketPlan;
    buckets: BucketSeries;
    state: RangeState;
    failedAt: number;
  } | null = null;
  /** Newest live point folded (the next fold starts there). */
  private foldedTs = -Infinity;
  /** The caller's clock at the last call (a failure's time, on the same clock as `now`). */
  private lastNow = 0;

  /** @param changed called when a load completes (the chart redraws) */
  constructor(
    private readonly load: RangeLoad,
    private readonly changed: () => void,
  ) {}

  get state(): RangeState | null {
    return this.current?.state ?? null;
  }

  get bucketMs(): number {
    return this.current?.plan.bucketMs ?? 0;
  }

  /**
   * The buckets for `windowMs` ending `now` at `plotWidth` px, with `live` folded in. A new
   * window, device, metric or bucket width starts a new load; the same one only folds.
   */
  buckets(
    target: { deviceId: string; metric: string; windowMs: number; plotWidth: number },
    live: SeriesView | undefined,
    now: number,
  ): BucketSeries {
    this.lastNow = now;
    const plan = bucketPlan(target.windowMs, target.plotWidth, now);
    const key = `${target.deviceId}\n${target.metric}\n${target.windowMs}\n${plan.bucketMs}`;
    let current = this.current;
    if (!current || current.key !== key) {
      const capacity = Math.round(plan.maxPoints / 2) + 2;
      current = {
        key,
        plan,
        buckets: new BucketSeries(plan.bucketMs, capacity),
        state: 'loading',
        failedAt: 0,
      };
      this.current = current;
      this.foldedTs = -Infinity;
      this.start(target.deviceId, target.metric, plan);
    } else if (current.state === 'failed' && now - current.failedAt >= RANGE_RETRY_MS) {
      current.state = 'loading';
      this.start(target.deviceId, target.metric, plan);
    }
    if (live) this.foldedTs = current.buckets.foldFrom(live, this.foldedTs);
    return current.buckets;
  }

  /** Forget the window (a short one was chosen): a later long one loads afresh. */
  reset(): void {
    this.current = null;
    this.foldedTs = -Infinity;
  }

  private start(deviceId: string, metric: string, plan: BucketPlan): void {
    const mine = this.current;
    void this.load(deviceId, metric, plan).then(
      (series) => this.loaded(mine, series),
      () => this.loaded(mine, null),
    );
  }

  private loaded(mine: LongWindow['current'], series: MetricSeries | null): void {
    if (!mine || mine !== this.current) return; // another window since
    if (series) {
      mine.buckets.foldAll(series.t, series.v);
      mine.state = 'loaded';
    } else {
      mine.state = 'failed';
      mine.failedAt = this.lastNow;
    }
    this.changed();
  }
}
