import type { MetricSeries } from './model';

/*
 * History in a subscribe acknowledgement with its timestamps as differences, for a client that
 * asks (`subscribe {timeDeltas: true}`; docs/decisions/0048-history-time-deltas.md). A reading's
 * `ts` is a 13-digit millisecond; between two points of one series it is a few digits: the
 * overview's first screen (30 devices, 6,455 points) spent 90 of its 145 kB on them. Owns that
 * encoding and its reading back; plain code, zod-free (part of the core entry), knows nothing of
 * sockets or of who asked.
 *
 * Lossless: a delta is `t[i] - t[i-1]` as a double and the reader adds it to the `t[i-1]` it
 * already has. For timestamps in milliseconds (integers far below 2^53) every step is exact; a
 * fractional millisecond is exact too while two neighbours are within a factor of two of each
 * other (Sterbenz), as any two readings of this century are.
 */

/** A series as it travels with `timeDeltas`: `dt[0]` is the first ts, `dt[i]` = `t[i] - t[i-1]`. */
export interface DeltaSeries {
  deviceId: string;
  metric: string;
  dt: number[];
  v: number[];
}

/** A series in an acknowledgement: plain, or with time deltas when the request asked for them. */
export type WireSeries = MetricSeries | DeltaSeries;

/** `series` with its timestamps as differences (the values as they are). */
export function toTimeDeltas(series: MetricSeries): DeltaSeries {
  const { t } = series;
  const dt = new Array<number>(t.length);
  let previous = 0;
  for (let i = 0; i < t.length; i++) {
    dt[i] = t[i] - previous;
    previous = t[i];
  }
  return { deviceId: series.deviceId, metric: series.metric, dt, v: series.v };
}

/**
 * The plain series, whichever form `series` came in. A `dt` that is not an array reads as no
 * points; a delta that is not a finite number ends the series there (what came before it
 * stands), so a damaged answer never puts a point at a wrong time.
 */
export function fromWire(series: WireSeries): MetricSeries {
  if (!('dt' in series)) return series;
  const { dt } = series;
  const t: number[] = [];
  if (Array.isArray(dt)) {
    let at = 0;
    for (const step of dt) {
      if (typeof step !== 'number' || !Number.isFinite(step)) break;
      at += step;
      t.push(at);
    }
  }
  const v = Array.isArray(series.v) ? series.v.slice(0, t.length) : [];
  return { deviceId: series.deviceId, metric: series.metric, t: t.slice(0, v.length), v };
}

/** Points in a series of either form. */
export function wirePoints(series: WireSeries): number {
  return 'dt' in series ? series.dt.length : series.t.length;
}
