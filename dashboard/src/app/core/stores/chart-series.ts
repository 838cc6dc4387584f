import { SeriesBuffer } from '@pulse/protocol/core';

/*
 * A series as the charts hold it: the protocol's SeriesBuffer (bounded, sorted, merge and
 * resize shared with the gateway's history), allocated at full capacity (the hot path never
 * reallocates) plus a `version` bumped on every change, which the frame scheduler and the
 * sparklines compare to skip unchanged series. Owns that counter only; it must not add logic
 * of its own to the points (it belongs in the protocol, with its spec).
 */
export class ChartSeries extends SeriesBuffer {
  /** Bumped on every change; drawers compare it to skip unchanged series. */
  version = 0;

  constructor(capacity: number) {
    super(capacity, capacity);
  }

  /** Newest timestamp held, or null when empty. */
  get lastTs(): number | null {
    return this.size ? this.newest : null;
  }

  /** Add one point; false if nothing changed (same point, or older than a full buffer holds). */
  push(ts: number, value: number): boolean {
    const changed = this.put(ts, value);
    if (changed) this.version++;
    return changed;
  }

  override merge(ts: ArrayLike<number>, values: ArrayLike<number>): void {
    super.merge(ts, values);
    if (Math.min(ts.length, values.length) > 0) this.version++;
  }

  override resize(capacity: number): boolean {
    const changed = super.resize(capacity);
    if (changed) this.version++;
    return changed;
  }
}

/** Number of gaps longer than `gapMs` between `fromTs` and the last point. */
export function countGaps(series: ChartSeries, fromTs: number, gapMs: number): number {
  let gaps = 0;
  const start = series.lowerBound(fromTs);
  for (let i = start + 1; i < series.size; i++) {
    if (series.tAt(i) - series.tAt(i - 1) > gapMs) gaps++;
  }
  return gaps;
}
