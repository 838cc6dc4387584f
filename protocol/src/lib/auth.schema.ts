import { z } from 'zod';
import { AUTH_LIMITS, ROLES } from './auth';
import { IdSchema } from './model.schema';

/**
 * Requests of `/api/auth/*` and `/api/users`, validated. Owns validation only; roles, limits and
 * response shapes live in the zod-free `auth.ts`, which must never import this file's values.
 */

export const RoleSchema = z.enum(ROLES);
/** Usernames follow the id rule (1 to 64 of `A-Z a-z 0-9 _ - .`). */
export const UsernameSchema = IdSchema;
export const PasswordSchema = z
  .string()
  .min(AUTH_LIMITS.minPasswordLength)
  .max(AUTH_LIMITS.maxPasswordLength);

/** `POST /api/auth/login`: any string is accepted so a wrong shape still answers 401, not 400. */
export const LoginRequestSchema = z
  .object({
    username: z.string().min(1).max(AUTH_LIMITS.maxUsernameLength),
    password: z.string().min(1).max(AUTH_LIMITS.maxPasswordLength),
  })
  .strict();
export type LoginRequest = z.infer<typeof LoginRequestSchema>;

/** `POST /api/auth/setup`: the first admin; `setupCode` required unless from loopback. */
export const SetupRequestSchema = z
  .object({
    username: UsernameSchema,
    password: PasswordSchema,
    setupCode: z.string().min(1).max(64).optional(),
  })
  .strict();
export type SetupRequest = z.infer<typeof SetupRequestSchema>;

/** `POST /api/auth/tokens`: a bearer token for the caller; `groups` (a scope) is admin-only. */
export const CreateTokenRequestSchema = z
  .object({
    name: z.string().trim().min(1).max(AUTH_LIMITS.maxTokenNameLength),
    ttlSeconds: z.number().int().positive().max(AUTH_LIMITS.maxTokenTtlSeconds).optional(),
    groups: z.array(IdSchema).min(1).max(AUTH_LIMITS.maxTokenGroups).optional(),
  })
  .strict();
export type CreateTokenRequest = z.infer<typeof CreateTokenRequestSchema>;

/**
 * `GET /api/auth/tokens` query: `user` names whose live tokens to list (the caller's own when
 * absent; another user's for an admin only).
 */
export const TokenListQuerySchema = z.object({ user: UsernameSchema.optional() }).strict();
export type TokenListQuery = z.infer<typeof TokenListQuerySchema>;

/**
 * `POST /api/auth/password`: the signed-in user's own new password. `currentPassword` takes any
 * string, as the login does, so a wrong one is refused as wrong (and counted), not as malformed.
 */
export const ChangePasswordRequestSchema = z
  .object({
    currentPassword: z.string().min(1).max(AUTH_LIMITS.maxPasswordLength),
    newPassword: PasswordSchema,
  })
  .strict();
export type ChangePasswordRequest = z.infer<typeof ChangePasswordRequestSchema>;

/** `POST /api/users`. */
export const CreateUserRequestSchema = z
  .object({ username: UsernameSchema, password: PasswordSchema, role: RoleSchema })
  .strict();
export type CreateUserRequest = z.infer<typeof CreateUserRequestSchema>;

/** `PATCH /api/users/:username`: at least one field. */
export const UpdateUserRequestSchema = z
  .object({
    role: RoleSchema.optional(),
    password: PasswordSchema.optional(),
    disabled: z.boolean().optional(),
  })
  .strict()
  .refine((u) => Object.values(u).some((v) => v !== undefined), {
    message: 'set at least one of role, password, disabled',
  });
export type UpdateUserRequest = z.infer<typeof UpdateUserRequestSchema>;
