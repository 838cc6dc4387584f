import type { DeviceMeta } from './model.schema';

/*
 * The device model as plain types: readings, device records, history columns. Part of the
 * zod-free core entry: it must not import zod or any `*.schema.ts` value (the schemas of ids
 * and meta live in `model.schema.ts`; `DeviceMeta` is a type-only import, erased on build).
 */

/** One reading: a device's metrics at one instant (ms since epoch). */
export interface Reading {
  deviceId: string;
  ts: number;
  values: Record<string, number>;
  /**
   * Only in a merged (conflated) reading, sent to a client that cannot keep up with every one:
   * `values` holds each metric's newest value (at `ts`, the newest timestamp merged) and `range`
   * the lowest and highest value of each metric among the `merged` readings it stands for, so a
   * spike is never hidden. Absent on readings sent one by one.
   */
  range?: Record<string, [min: number, max: number]>;
  /** How many readings a merged reading stands for (absent: 1). */
  merged?: number;
}

export type DeviceStatus = 'online' | 'offline' | 'unknown';

/** What the stack knows about one device (`device` event, `GET /api/devices`). */
export interface DeviceInfo {
  deviceId: string;
  status: DeviceStatus;
  /** Server time of the last message of any kind from the device, or null. */
  lastSeen: number | null;
  /** Highest reading timestamp seen, or null. */
  lastTs: number | null;
  meta: DeviceMeta | null;
  /** Metric names seen so far (bounded). */
  metrics: string[];
}

/** A column of one metric's history: `t[i]` pairs with `v[i]`, ascending by time. */
export interface MetricSeries {
  deviceId: string;
  metric: string;
  t: number[];
  v: number[];
}
