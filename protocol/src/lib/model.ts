import { z } from 'zod';
import { ID_PATTERN } from './ids';
import { LIMITS } from './limits';

/** A device, metric or group id: 1 to 64 characters of `A-Z a-z 0-9 _ - .`. */
export const IdSchema = z
  .string()
  .regex(ID_PATTERN, 'must be 1 to 64 characters of A-Z a-z 0-9 _ - .');

/** One reading: a device's metrics at one instant (ms since epoch). */
export interface Reading {
  deviceId: string;
  ts: number;
  values: Record<string, number>;
}

export type DeviceStatus = 'online' | 'offline' | 'unknown';

/** `devices/{deviceId}/meta`, retained JSON. Unknown keys are ignored. */
export const DeviceMetaSchema = z.object({
  name: z.string().min(1).max(LIMITS.maxNameLength).optional(),
  group: IdSchema.optional(),
  units: z
    .record(IdSchema, z.string().max(LIMITS.maxUnitLength))
    .refine((units) => Object.keys(units).length <= LIMITS.maxMetricsPerReading, {
      message: `at most ${LIMITS.maxMetricsPerReading} units`,
    })
    .optional(),
  /** The device's nominal publish interval in ms, a hint for staleness detection. */
  intervalMs: z.number().int().positive().max(86_400_000).optional(),
});
export type DeviceMeta = z.infer<typeof DeviceMetaSchema>;

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
