import { z } from 'zod';

/*
 * Validation of the HTTP history query (used by the devices controller's pipe). Owns this
 * schema only; the response shapes live in the zod-free `http.ts`, which must never import
 * this file's values, and the query's defaults (window, points) belong to the backend config.
 */

/** `GET /api/devices/:id/history?from&to&maxPoints&metrics=a,b` */
export const HistoryQuerySchema = z
  .object({
    from: z.coerce.number().finite().nonnegative().optional(),
    to: z.coerce.number().finite().nonnegative().optional(),
    maxPoints: z.coerce.number().int().positive().max(100_000).optional(),
    metrics: z
      .string()
      .max(4096)
      .transform((s) => s.split(',').filter((m) => m.length > 0))
      .optional(),
  })
  .strict();
export type HistoryQuery = z.infer<typeof HistoryQuerySchema>;
