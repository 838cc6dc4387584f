import { z } from 'zod';
import { ID_PATTERN } from './ids';
import { LIMITS } from './limits';

/*
 * Validation of the device model: ids and the retained `meta` document. Owns these two
 * schemas only; the plain model types live in the zod-free `model.ts`, which must never
 * import this file's values.
 */

/** A device, metric or group id: 1 to 64 characters of `A-Z a-z 0-9 _ - .`. */
export const IdSchema = z
  .string()
  .regex(ID_PATTERN, 'must be 1 to 64 characters of A-Z a-z 0-9 _ - . (not . or .. alone)');

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
