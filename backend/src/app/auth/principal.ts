import { AnonymousRole, AuthError, Role, roleAtLeast } from '@pulse/protocol';

/**
 * Who is asking: a signed-in user (session cookie or bearer token), a paired wall screen (its
 * display token) or an anonymous client with the ANONYMOUS_ROLE. Owns the decision "may this principal do what needs `role`", used by the
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
  | {
      /** A paired wall screen (its display token): always a viewer, scoped by the admin. */
      kind: 'screen';
      screenId: string;
      name: string;
      role: 'viewer';
      groups: readonly string[] | null;
      /** The display token's id (`jti`). */
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
  return principal.kind === 'anonymous' ? null : principal.groups;
}

/**
 * Whether data of a device in `group` (undefined: a device without a group) is within `scope`
 * (null: no scope, everything is).
 */
export function inScope(scope: readonly string[] | null, group: string | undefined): boolean {
  return scope === null || (group !== undefined && scope.includes(group));
}
