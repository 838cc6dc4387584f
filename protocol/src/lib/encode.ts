import type { Reading } from './model';

/** Encode readings for `devices/{id}/telemetry`: one object, or an array for a batch. */
export function encodeTelemetry(readings: ReadonlyArray<Pick<Reading, 'ts' | 'values'>>): string {
  if (readings.length === 1)
    return JSON.stringify({ ts: readings[0].ts, values: readings[0].values });
  return JSON.stringify(readings.map((r) => ({ ts: r.ts, values: r.values })));
}
