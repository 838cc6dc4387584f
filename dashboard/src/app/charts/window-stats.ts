/*
 * The small arithmetic charts and sparklines share: the shape of a window's stats, the gap
 * threshold and the redraw interval. Pure and state-free; computing the stats over a window
 * is window-projection.ts's, deciding when to draw the frame scheduler's and the drawables'.
 */

/** Min / max / average of the points in a chart's visible window. */
export interface WindowStats {
  count: number;
  min: number | null;
  max: number | null;
  avg: number | null;
  /** Gaps longer than the gap threshold inside the window. */
  gaps: number;
  /** A bucketed window (6h and longer): the bucket width; `count` then counts buckets. */
  bucketMs?: number;
}

export const EMPTY_STATS: WindowStats = { count: 0, min: null, max: null, avg: null, gaps: 0 };

/** Gap threshold: 3 × cadence, but never below what per-pixel-column reduction spreads points to (`samples` = plot width in px). */
export function gapThresholdMs(
  cadenceMs: number | null,
  windowMs: number,
  samples: number,
): number {
  const bucket = samples > 0 ? windowMs / samples : 0;
  return Math.max(3 * (cadenceMs ?? 1000), 2.5 * bucket, 1);
}

/** Never redraw a chart more often than this, whatever the data rate. */
export const MIN_REDRAW_MS = 100;

/**
 * How long a chart waits between redraws: one pixel's worth of the window's
 * time (the line cannot move less than that), but at least {@link MIN_REDRAW_MS}.
 * A 5 min window on a 300 px plot redraws once a second; 1 min on 600 px, 10 times a second.
 */
export function redrawIntervalMs(windowMs: number, plotWidthPx: number): number {
  return Math.max(MIN_REDRAW_MS, windowMs / Math.max(1, plotWidthPx));
}
