import { z } from 'zod';
import { LIMITS } from './limits';
import { IdSchema } from './model.schema';

/*
 * Validation of the live requests (`subscribe`, `unsubscribe`) and the readable form of a zod
 * error. Owns these schemas only; the event names, rooms and payload types live in the
 * zod-free `live.ts`.
 */

/**
 * `subscribe` / `unsubscribe` request. `fleet: true` watches every device
 * without joining each device room. `since` (ms since epoch) asks for history
 * from then on; without it the default window is sent.
 */
export const SubscribeRequestSchema = z
  .object({
    devices: z.array(IdSchema).max(LIMITS.maxSubscribeItems).optional(),
    groups: z.array(IdSchema).max(LIMITS.maxSubscribeItems).optional(),
    fleet: z.boolean().optional(),
    /** The fleet summary: its snapshot in the acknowledgement, then `summary` deltas. */
    summary: z.boolean().optional(),
    since: z.number().finite().nonnegative().optional(),
    /** Cap on history points per metric in the acknowledgement. */
    maxPoints: z.number().int().positive().max(100_000).optional(),
    /** Skip history in the acknowledgement (e.g. an overview that only needs live data). */
    history: z.boolean().optional(),
    /** History's timestamps as differences (`dt` for `t`; series-wire.ts): ~40 % fewer bytes. */
    timeDeltas: z.boolean().optional(),
  })
  .strict();
export type SubscribeRequest = z.infer<typeof SubscribeRequestSchema>;

export const UnsubscribeRequestSchema = z
  .object({
    devices: z.array(IdSchema).max(LIMITS.maxSubscribeItems).optional(),
    groups: z.array(IdSchema).max(LIMITS.maxSubscribeItems).optional(),
    fleet: z.boolean().optional(),
    summary: z.boolean().optional(),
  })
  .strict();
export type UnsubscribeRequest = z.infer<typeof UnsubscribeRequestSchema>;

/** Readable `path: message` lines for a zod error. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
    .join('; ');
}
