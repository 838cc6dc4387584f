import type { Reading } from './model';

/*
 * The device side of telemetry: the JSON the simulator and the e2e tests publish, the shape
 * `decode.ts` accepts. Part of the zod-free core. Owns the serialisation only; it must not
 * validate (the decoder does) nor build topics or publish (`topics.ts`, the simulator).
 */

/** Encode readings for `devices/{id}/telemetry`: one object, or an array for a batch. */
export function encodeTelemetry(readings: ReadonlyArray<Pick<Reading, 'ts' | 'values'>>): string {
  if (readings.length === 1)
    return JSON.stringify({ ts: readings[0].ts, values: readings[0].values });
  return JSON.stringify(readings.map((r) => ({ ts: r.ts, values: r.values })));
}
