import type { MetricSeries } from './model';

/*
 * History in a subscribe acknowledgement with its timestamps as differences, for a client that
 * asks (`subscribe {timeDeltas: true}`; docs/decisions/0048-history-time-deltas.md). A reading's
 * `ts` is a 13-digit millisecond; between two points of one series it is a few digits: the
 * overview's first screen (30 devices, 6,455 points) spent 90 of its 145 kB on them. Owns that
 * encoding and its reading back; plain code, zod-free (part of the core entry), knows nothing of
 * sockets or of who asked.
 *
 * Lossless: a delta is `t[i] - t[i-1]` and the reader adds it to the `t[i-1]` it already has.
 * Ingest keeps whole milliseconds (decode.ts rounds a reading's ts; the receive clock's are
 * whole), and every difference and sum of integers far below 2^53 is exact.
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
 * The plain series, whichever form `series` came in. What is not a series reads as one without
 * points, a `dt` that is not an array too; a step that is not a finite number ends the series
 * there (what came before it stands), and `t` and `v` are cut to the shorter of the two.
 */
export function fromWire(series: WireSeries): MetricSeries {
  if (series === null || typeof series !== 'object')
    return { deviceId: '', metric: '', t: [], v: [] };
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
