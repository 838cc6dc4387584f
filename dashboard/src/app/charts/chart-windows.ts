/*
 * The device view's time windows and how a long one is asked of the gateway: the catalogue
 * (label ↔ ms, the `?window=` query value), which windows are drawn from the live series and
 * which from a downsampled range, and the bucket plan of a long one (bucket width, range and
 * `maxPoints`). Pure; it must not fetch, draw or read the clock (callers pass `now`).
 */

export interface ChartWindowChoice {
  /** Button label and `?window=` value. */
  readonly label: string;
  readonly ms: number;
}

const MIN = 60_000;
const HOUR = 60 * MIN;

export const WINDOWS: readonly ChartWindowChoice[] = [
  { label: '1m', ms: MIN },
  { label: '5m', ms: 5 * MIN },
  { label: '15m', ms: 15 * MIN },
  { label: '1h', ms: HOUR },
  { label: '6h', ms: 6 * HOUR },
  { label: '24h', ms: 24 * HOUR },
  { label: '7d', ms: 7 * 24 * HOUR },
];

export const DEFAULT_WINDOW = WINDOWS[1];

/**
 * Longest window drawn from the live series (the device view keeps an hour of points per
 * metric, MAX_SERIES_CAPACITY): longer ones are loaded as a downsampled range and drawn as
 * buckets (min/max band), the live series folded into their newest buckets.
 */
export const LIVE_WINDOW_MAX_MS = HOUR;

export function isBucketed(windowMs: number): boolean {
  return windowMs > LIVE_WINDOW_MAX_MS;
}

/** The window a `?window=` value names; the default for anything else (a stale bookmark). */
export function windowFromParam(value: string | null | undefined): ChartWindowChoice {
  return WINDOWS.find((w) => w.label === value) ?? DEFAULT_WINDOW;
}

/** Fewest and most buckets a long window is drawn with, whatever the chart's width. */
export const MIN_BUCKETS = 100;
export const MAX_BUCKETS = 2000;

/**
 * Bucket widths a long window rounds up to. From a minute on they are whole minutes, and from
 * an hour whole hours: the gateway's rollups (1 min, 1 h, docs/decisions/0021) then fall into
 * exactly one bucket each, so the answer's buckets are the chart's buckets.
 */
const BUCKET_LADDER = [
  1_000,
  2_000,
  5_000,
  10_000,
  15_000,
  30_000,
  MIN,
  2 * MIN,
  3 * MIN,
  5 * MIN,
  10 * MIN,
  15 * MIN,
  30 * MIN,
  HOUR,
  2 * HOUR,
  3 * HOUR,
  6 * HOUR,
  12 * HOUR,
  24 * HOUR,
];

export interface BucketPlan {
  bucketMs: number;
  /** Range to ask for: `from` on a bucket edge, `to` = `from` + buckets × bucketMs (≥ now). */
  from: number;
  to: number;
  /** What to ask for: two points (the lowest and the highest) per bucket. */
  maxPoints: number;
}

/**
 * How to load `windowMs` ending at `now` for a plot `plotWidth` px wide: about one bucket per
 * pixel column (bounded by MIN_BUCKETS / MAX_BUCKETS), its width rounded up to the ladder, the
 * range aligned to bucket edges so the gateway's `maxPoints / 2` equal buckets over it are
 * exactly these (its width: range / buckets, rounded up to its rollup's).
 */
export function bucketPlan(windowMs: number, plotWidth: number, now: number): BucketPlan {
  const target = Math.min(MAX_BUCKETS, Math.max(MIN_BUCKETS, Math.round(plotWidth)));
  const ideal = windowMs / target;
  const bucketMs =
    BUCKET_LADDER.find((w) => w >= ideal) ?? Math.ceil(ideal / (24 * HOUR)) * 24 * HOUR;
  const from = Math.floor((now - windowMs) / bucketMs) * bucketMs;
  const buckets = Math.floor((now - from) / bucketMs) + 1;
  return { bucketMs, from, to: from + buckets * bucketMs, maxPoints: 2 * buckets };
}
