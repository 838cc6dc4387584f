import { z } from 'zod';
import { IdSchema } from './model.schema';
import { SCREEN_LIMITS } from './screens';

/**
 * Requests of `/api/screens/*`, validated. Owns validation only; bounds and response shapes
 * live in the zod-free `screens.ts`.
 */

const CodeSchema = z
  .string()
  .trim()
  .toUpperCase()
  .length(SCREEN_LIMITS.codeLength)
  .regex(new RegExp(`^[${SCREEN_LIMITS.codeAlphabet}]+$`), 'not a pairing code');

/** A query string of wall parameters (no `?`): the characters the wall's parameters use. */
export const ScreenBoardSchema = z
  .string()
  .trim()
  .max(SCREEN_LIMITS.maxBoardLength)
  .regex(/^[A-Za-z0-9_.,;=&%:+-]*$/, 'a query string like group=hall-a&cols=3')
  .transform((board) => board.replace(/^\?/, ''));

const NameSchema = z.string().trim().min(1).max(SCREEN_LIMITS.maxNameLength);
const GroupsSchema = z.array(IdSchema).min(1).max(SCREEN_LIMITS.maxGroups);

/** `POST /api/screens/pairing/claim`. */
export const PairingClaimRequestSchema = z
  .object({ pairingId: z.string().min(1).max(64) })
  .strict();
export type PairingClaimRequest = z.infer<typeof PairingClaimRequestSchema>;

/** `POST /api/screens` (admin): pair the wall showing `code`. No `groups`: the whole fleet. */
export const CreateScreenRequestSchema = z
  .object({
    code: CodeSchema,
    name: NameSchema,
    board: ScreenBoardSchema.default(''),
    groups: GroupsSchema.optional(),
  })
  .strict();
export type CreateScreenRequest = z.infer<typeof CreateScreenRequestSchema>;

/** `PATCH /api/screens/:id` (admin); `groups: null` widens it to the whole fleet. */
export const UpdateScreenRequestSchema = z
  .object({
    name: NameSchema.optional(),
    board: ScreenBoardSchema.optional(),
    groups: GroupsSchema.nullable().optional(),
  })
  .strict()
  .refine((u) => Object.values(u).some((v) => v !== undefined), {
    message: 'set at least one of name, board, groups',
  });
export type UpdateScreenRequest = z.infer<typeof UpdateScreenRequestSchema>;
