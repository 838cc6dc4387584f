import { AnonymousRole, AuthError, Role, roleAtLeast } from '@pulse/protocol';

/**
 * Who is asking: a signed-in user (session cookie or bearer token) or an anonymous client with
 * the ANONYMOUS_ROLE. Owns the decision "may this principal do what needs `role`", used by the
 * HTTP guard and the `/live` event check alike; must not know how a principal was found.
 */
export type Principal =
  | {
      kind: 'user';
      username: string;
      role: Role;
      /** Group scope of the token (admin-issued): only these groups may be subscribed. */
      groups: readonly string[] | null;
      /** The session's or token's id (`jti`). */
      tokenId: string;
    }
  | { kind: 'anonymous'; role: AnonymousRole };

/** `null` when allowed; otherwise why not (no identity at all, or a role too weak). */
export function refusal(principal: Principal, needed: Role): AuthError | null {
  if (principal.kind === 'anonymous')
    return principal.role !== 'none' && roleAtLeast(principal.role, needed) ? null : 'unauthorized';
  return roleAtLeast(principal.role, needed) ? null : 'forbidden';
}

/** Group scope of a principal, or null when it may watch every group. */
export function groupScope(principal: Principal): readonly string[] | null {
  return principal.kind === 'user' ? principal.groups : null;
}
