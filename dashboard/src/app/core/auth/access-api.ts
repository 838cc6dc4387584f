import { Injectable, inject } from '@angular/core';
import {
  ROLES,
  type CreateTokenResponse,
  type CreateUserRequest,
  type Role,
  type TokenInfo,
  type UserInfo,
} from '@pulse/protocol/core';
import { FETCH } from '../http/alerts-api';
import { AuthRequestError, authRequest } from './auth-api';

/*
 * The calls of the Access page: people (`/api/users`: list, create, PATCH role or password,
 * DELETE, admin only), bearer tokens (`/api/auth/tokens`: create, list, revoke) and one's own
 * password (`/api/auth/password`), all sent with `authRequest` (the session cookie, a JSON
 * body). It owns the URLs, the request bodies and the shape checks of the answers; it must not
 * hold state (the page does), word a refusal (the page does, with `adminRefusal`) nor keep or
 * log a password or a token's secret: they pass through and are gone.
 */

export type { CreateTokenResponse, TokenInfo, UserInfo } from '@pulse/protocol/core';

/** A new bearer token as the page asks for it: the gateway's defaults when a field is absent. */
export interface TokenRequest {
  name: string;
  /** Absent: the gateway's default (1 hour). */
  ttlSeconds?: number;
  /** Absent: not scoped (every group). */
  groups?: string[];
}

@Injectable({ providedIn: 'root' })
export class AccessApi {
  private readonly fetch = inject(FETCH);

  /** `GET /api/users`: every person (never a password hash); malformed entries left out. */
  async users(): Promise<UserInfo[]> {
    const body = (await authRequest(this.fetch, 'GET', '/api/users')) as { users?: unknown };
    return Array.isArray(body?.users) ? body.users.filter(isUserInfo) : [];
  }

  /** `POST /api/users` (201; 409 when the username is taken). */
  createUser(user: CreateUserRequest): Promise<unknown> {
    return authRequest(this.fetch, 'POST', '/api/users', user);
  }

  /**
   * `PATCH /api/users/:username` with one change. A new password revokes every session and token
   * of that person; the gateway refuses (409) to demote the last enabled admin.
   */
  updateUser(username: string, change: { role: Role } | { password: string }): Promise<unknown> {
    return authRequest(this.fetch, 'PATCH', userUrl(username), change);
  }

  /** `DELETE /api/users/:username` (204; 409 for the last enabled admin). */
  removeUser(username: string): Promise<unknown> {
    return authRequest(this.fetch, 'DELETE', userUrl(username));
  }

  /** `GET /api/auth/tokens[?user=]`: the live bearer tokens of `user` (the caller's when absent). */
  async tokens(user?: string): Promise<TokenInfo[]> {
    const query = user === undefined ? '' : `?user=${encodeURIComponent(user)}`;
    const body = (await authRequest(this.fetch, 'GET', `/api/auth/tokens${query}`)) as {
      tokens?: unknown;
    };
    return Array.isArray(body?.tokens) ? body.tokens.filter(isTokenInfo) : [];
  }

  /** `POST /api/auth/tokens`: a token for the caller; its secret is in this answer only. */
  async createToken(request: TokenRequest): Promise<CreateTokenResponse> {
    const body = (await authRequest(this.fetch, 'POST', '/api/auth/tokens', {
      name: request.name,
      ...(request.ttlSeconds === undefined ? {} : { ttlSeconds: request.ttlSeconds }),
      ...(request.groups?.length ? { groups: request.groups } : {}),
    })) as Partial<CreateTokenResponse> | null;
    if (
      typeof body?.id !== 'string' ||
      typeof body.token !== 'string' ||
      typeof body.expiresAt !== 'number'
    )
      throw new AuthRequestError(0, 'malformed token answer');
    return { id: body.id, token: body.token, expiresAt: body.expiresAt };
  }

  /** `DELETE /api/auth/tokens/:id`: with every token made with it. */
  revokeToken(id: string): Promise<unknown> {
    return authRequest(this.fetch, 'DELETE', `/api/auth/tokens/${encodeURIComponent(id)}`);
  }

  /**
   * `POST /api/auth/password`: the signed-in person's own (204); 403 when `currentPassword` is
   * wrong. Every other session and token of theirs is revoked.
   */
  changePassword(currentPassword: string, newPassword: string): Promise<unknown> {
    return authRequest(this.fetch, 'POST', '/api/auth/password', { currentPassword, newPassword });
  }
}

function userUrl(username: string): string {
  return `/api/users/${encodeURIComponent(username)}`;
}

function isUserInfo(value: unknown): value is UserInfo {
  if (!value || typeof value !== 'object') return false;
  const u = value as Record<string, unknown>;
  return (
    typeof u['username'] === 'string' &&
    (ROLES as readonly unknown[]).includes(u['role']) &&
    typeof u['createdAt'] === 'number' &&
    typeof u['disabled'] === 'boolean' &&
    (u['lastSignInAt'] === undefined || typeof u['lastSignInAt'] === 'number')
  );
}

function isTokenInfo(value: unknown): value is TokenInfo {
  if (!value || typeof value !== 'object') return false;
  const t = value as Record<string, unknown>;
  return (
    typeof t['id'] === 'string' &&
    typeof t['name'] === 'string' &&
    typeof t['createdAt'] === 'number' &&
    typeof t['expiresAt'] === 'number' &&
    (t['groups'] === undefined ||
      (Array.isArray(t['groups']) && t['groups'].every((g) => typeof g === 'string'))) &&
    (t['lastUsedAt'] === undefined || typeof t['lastUsedAt'] === 'number')
  );
}
