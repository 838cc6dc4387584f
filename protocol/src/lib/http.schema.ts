import { z } from 'zod';
import { ID_PATTERN } from './ids';
import { LIMITS } from './limits';
import { queryNumber } from './query.schema';

/*
 * Validation of the HTTP history query (used by the devices controller's pipe). Owns this
 * schema only; the response shapes live in the zod-free `http.ts`, which must never import
 * this file's values, and the query's defaults (window, points) belong to the backend config.
 */

/**
 * `GET /api/devices/:id/history?from&to&maxPoints&metrics=a,b&pick=spread`. `pick`: which points
 * a series with more than `maxPoints` in range keeps: `latest` (the default, the most recent) or
 * `spread` (spread over the range, as a `subscribe` acknowledgement's history: a chart's window).
 */
export const HistoryQuerySchema = z
  .object({
    from: queryNumber().optional(),
    to: queryNumber().optional(),
    maxPoints: queryNumber(z.number().int().positive().max(100_000)).optional(),
    metrics: z
      .string()
      .max(4096)
      .transform((s) => s.split(',').filter((m) => m.length > 0))
      .optional(),
    pick: z.enum(['latest', 'spread']).optional(),
  })
  .strict()
  .refine((q) => q.from === undefined || q.to === undefined || q.from <= q.to, {
    message: 'must not be after to',
    path: ['from'],
  });
export type HistoryQuery = z.infer<typeof HistoryQuerySchema>;

/**
 * `GET /api/history?devices=a,b&from&maxPoints&timeDeltas=true`: the windows of several devices
 * at once (a wall board's, a screen of tiles'), every metric, at most `maxPoints` per metric
 * spread over the range as a subscribe's history, timestamps as differences with `timeDeltas`
 * (docs/decisions/0051-windows-over-http.md). 1 to `LIMITS.maxHistoryDevices` ids, each once;
 * `maxPoints` at most `LIMITS.maxWindowPoints`; the gateway reads from at most
 * `LIMITS.maxWindowMs` ago.
 */
export const WindowsQuerySchema = z
  .object({
    devices: z
      .string()
      .max(LIMITS.maxHistoryDevices * 65)
      .transform((s) => s.split(','))
      .pipe(
        z
          .array(
            z.string().regex(ID_PATTERN, { message: 'device ids: 1 to 64 of A-Z a-z 0-9 _ - .' }),
          )
          .min(1)
          .max(LIMITS.maxHistoryDevices)
          .refine((ids) => new Set(ids).size === ids.length, { message: 'a device id twice' }),
      ),
    from: queryNumber().optional(),
    maxPoints: queryNumber(z.number().int().positive().max(LIMITS.maxWindowPoints)).optional(),
    timeDeltas: z
      .enum(['true', 'false'], { message: 'true or false' })
      .transform((v) => v === 'true')
      .optional(),
  })
  .strict();
export type WindowsQuery = z.infer<typeof WindowsQuerySchema>;

/**
 * `GET /api/fleet/summary?sort&order&q&group&grouped&offset&limit`. `sort`: `name` (name, else
 * id), `lastSeen`, `severity` (highest active alert, then how many) or `metric:<name>` (latest
 * value; devices without one last); `order` defaults to asc for name, desc otherwise. `q`:
 * case-insensitive substring of the id, the name or the group. `group`: that group only.
 * `grouped=true`: ordered by group first (by name, devices without a group last), then by
 * `sort`, as a list under group headings pages it. `limit` defaults to (and is capped at)
 * `LIMITS.maxSummaryPage`.
 */
export const FleetSummaryQuerySchema = z
  .object({
    sort: z
      .string()
      .regex(/^(name|lastSeen|severity|metric:[A-Za-z0-9_.-]{1,64})$/, {
        message: 'name, lastSeen, severity or metric:<name>',
      })
      .optional(),
    order: z.enum(['asc', 'desc']).optional(),
    q: z.string().max(LIMITS.maxSearchChars).optional(),
    group: z.string().min(1).max(LIMITS.maxNameLength).optional(),
    grouped: z
      .enum(['true', 'false'], { message: 'true or false' })
      .transform((v) => v === 'true')
      .optional(),
    offset: queryNumber(z.number().int()).optional(),
    limit: queryNumber(z.number().int().positive().max(LIMITS.maxSummaryPage)).optional(),
  })
  .strict();
export type FleetSummaryQuery = z.infer<typeof FleetSummaryQuerySchema>;
