import { EMPTY_STATS, WindowStats } from './window-stats';

/*
 * The window projection of a live chart: which points of a series fall in the visible time
 * window, reduced to at most two per pixel column, with the window's stats and gaps over every
 * point. Pure apart from its output array: it reads the series and writes only the caller's
 * points; it must not touch Chart.js, the DOM, the stores or the clock.
 */

/** A chart point (Chart.js reads `x`/`y` straight, `parsing: false`). */
export interface Point {
  x: number;
  y: number;
}

/** What the projection reads of a series (a `ChartSeries` fits). */
export interface SeriesView {
  readonly size: number;
  tAt(i: number): number;
  vAt(i: number): number;
  /** Index of the first point with `t >= ts`. */
  lowerBound(ts: number): number;
}

export interface ChartWindow {
  /** Visible time range, inclusive (ms). */
  min: number;
  max: number;
  /** Plot width in px: more than two points per pixel column are reduced. */
  plotWidth: number;
  /** Spacing above which two neighbouring points count as a gap. */
  gapMs: number;
}

export interface WindowProjection {
  /** Min / max / average and gaps of the points inside the window (every point, not the reduced ones). */
  stats: WindowStats;
  /** Timestamp of the first point after the newest gap in the window, or 0. */
  lastGapEnd: number;
}

/**
 * Write the points to draw into `points` (reusing its objects and truncating it): the window's
 * points plus one before it, so the line enters from the edge. With more than two points per
 * pixel column, each column keeps only its lowest and highest point, in time order: the line
 * looks the same and Chart.js holds at most 2 × plot width points whatever the data rate.
 */
export function projectWindow(
  series: SeriesView | undefined,
  window: ChartWindow,
  points: Point[],
): WindowProjection {
  const { min, max, plotWidth, gapMs } = window;
  let n = 0;
  let sum = 0;
  let lo = Infinity;
  let hi = -Infinity;
  let count = 0;
  let gaps = 0;
  let lastGapEnd = 0;
  if (series) {
    const first = series.lowerBound(min);
    const start = Math.max(0, first - 1);
    let end = series.lowerBound(max); // exclusive: points up to and including max
    while (end < series.size && series.tAt(end) <= max) end++;
    const columnMs = end - first > 2 * plotWidth ? (max - min) / plotWidth : 0;
    let col = NaN;
    let cMin = -1;
    let cMax = -1;
    let prevT = NaN;
    for (let i = start; i < end; i++) {
      const t = series.tAt(i);
      const v = series.vAt(i);
      if (t >= min) {
        count++;
        sum += v;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
        if (t - prevT > gapMs) {
          gaps++;
          lastGapEnd = t;
        }
      }
      prevT = t;
      if (columnMs === 0) {
        n = putPoint(points, n, t, v);
        continue;
      }
      const c = Math.floor((t - min) / columnMs);
      if (c !== col) {
        if (cMin >= 0) n = putColumn(points, n, series, cMin, cMax);
        col = c;
        cMin = cMax = i;
      } else {
        if (v < series.vAt(cMin)) cMin = i;
        if (v > series.vAt(cMax)) cMax = i;
      }
    }
    if (cMin >= 0) n = putColumn(points, n, series, cMin, cMax);
  }
  points.length = n;
  const stats: WindowStats = count
    ? { count, min: lo, max: hi, avg: sum / count, gaps }
    : { ...EMPTY_STATS };
  return { stats, lastGapEnd };
}

/** Write point `n` (reusing the object); returns n + 1. Shared with the bucketed projection. */
export function putPoint(points: Point[], n: number, t: number, v: number): number {
  const p = points[n];
  if (p) {
    p.x = t;
    p.y = v;
  } else points[n] = { x: t, y: v };
  return n + 1;
}

/** Write the min and max points of one pixel column (series indexes), in time order. */
function putColumn(points: Point[], n: number, series: SeriesView, lo: number, hi: number): number {
  const a = lo < hi ? lo : hi;
  const b = lo < hi ? hi : lo;
  n = putPoint(points, n, series.tAt(a), series.vAt(a));
  if (b !== a) n = putPoint(points, n, series.tAt(b), series.vAt(b));
  return n;
}
