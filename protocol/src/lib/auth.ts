/*
 * The auth contract without zod: roles, limits, the cookie name and the request/response shapes
 * of `/api/auth/*` and `/api/users`. Part of the zod-free core entry (the dashboard imports it):
 * it must not import zod or any `*.schema.ts` value (the request schemas live in
 * `auth.schema.ts`, whose inferred types are re-exported type-only by the core).
 */

/** Roles, weakest first: each has every right of the ones before it. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What an unauthenticated client may do (`ANONYMOUS_ROLE`). */
export const ANONYMOUS_ROLES = ['viewer', 'none'] as const;
export type AnonymousRole = (typeof ANONYMOUS_ROLES)[number];

/** True when `role` has at least the rights of `needed`. */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

/** Browser session cookie (HttpOnly, SameSite=Strict, Path=/, Secure over TLS). */
export const SESSION_COOKIE = 'pulse_session';

export const AUTH_LIMITS = {
  /** Usernames follow the id rule: 1 to 64 characters of `A-Z a-z 0-9 _ - .`. */
  maxUsernameLength: 64,
  minPasswordLength: 10,
  maxPasswordLength: 256,
  maxTokenNameLength: 64,
  /** Bearer token lifetime when `ttlSeconds` is not given: 1 hour. */
  defaultTokenTtlSeconds: 3600,
  /** Longest bearer token lifetime: 30 days. */
  maxTokenTtlSeconds: 30 * 86_400,
  /** Most groups one scoped token may name. */
  maxTokenGroups: 32,
  /** Most live (unexpired, unrevoked) bearer tokens per user. */
  maxTokensPerUser: 50,
  /** Setup code length (printed once on the console at boot). */
  setupCodeLength: 12,
  /**
   * A token's `lastUsedAt` is written at most once per this span (ms): a script polling every
   * second, or a thousand screens connecting with one token, write its row once a minute.
   */
  lastUsedResolutionMs: 60_000,
} as const;

/** A user as the API shows it (never the password hash). */
export interface AuthUser {
  username: string;
  role: Role;
}

/** A user in `GET /api/users`. */
export interface UserInfo extends AuthUser {
  createdAt: number;
  disabled: boolean;
  /** Ms since the epoch of their last sign-in (a password checked); absent: never signed in. */
  lastSignInAt?: number;
}

/** `GET /api/auth/me`. */
export interface MeResponse {
  user: AuthUser | null;
  anonymousRole: AnonymousRole;
  setupRequired: boolean;
  /** The paired wall screen whose display token was presented (then `user` is null). */
  screen?: { id: string; name: string } | null;
}

/** `POST /api/auth/login` (200) and `POST /api/auth/setup` (201). */
export interface LoginResponse {
  user: AuthUser;
}

/** `POST /api/auth/tokens` (201). The token is shown once; only its id is kept for revocation. */
export interface CreateTokenResponse {
  id: string;
  token: string;
  /** Expiry, ms since the epoch. */
  expiresAt: number;
}

/**
 * A live bearer token in `GET /api/auth/tokens`: what it is called and how long it lives, never
 * the token itself (shown once, when it is created).
 */
export interface TokenInfo {
  id: string;
  name: string;
  /** Ms since the epoch. */
  createdAt: number;
  /** Ms since the epoch. */
  expiresAt: number;
  /** The groups a scoped token is limited to; absent when it is not scoped. */
  groups?: string[];
  /**
   * The id of the bearer token this one was asked for with: revoking that one revokes this one
   * too. Absent for a token asked for with a session (the browser's sign-in).
   */
  parentId?: string;
  /**
   * Ms since the epoch when it was last presented (an API request or a live connection), to the
   * minute (AUTH_LIMITS.lastUsedResolutionMs); absent: never used.
   */
  lastUsedAt?: number;
}

/** `GET /api/auth/tokens`: newest first. */
export interface TokenListResponse {
  tokens: TokenInfo[];
}

/** `GET /api/users`. */
export interface UserListResponse {
  users: UserInfo[];
}

/** Body of a refused auth request (401 on login: the same for unknown user and bad password). */
export interface AuthErrorResponse {
  error: string;
}

/** Refusal reasons of a `/live` event or handshake (`{ ok: false, error }`, `connect_error`). */
export const AUTH_ERRORS = { unauthorized: 'unauthorized', forbidden: 'forbidden' } as const;
export type AuthError = (typeof AUTH_ERRORS)[keyof typeof AUTH_ERRORS];
