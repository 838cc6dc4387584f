/** Min / max / average of the points in a chart's visible window. */
export interface WindowStats {
  count: number;
  min: number | null;
  max: number | null;
  avg: number | null;
  /** Gaps longer than the gap threshold inside the window. */
  gaps: number;
}

export const EMPTY_STATS: WindowStats = { count: 0, min: null, max: null, avg: null, gaps: 0 };

/** Gap threshold: 3 × cadence, but never below what LTTB decimation spreads points to. */
export function gapThresholdMs(cadenceMs: number | null, windowMs: number, samples: number): number {
  const bucket = samples > 0 ? windowMs / samples : 0;
  return Math.max(3 * (cadenceMs ?? 1000), 2.5 * bucket, 1);
}
