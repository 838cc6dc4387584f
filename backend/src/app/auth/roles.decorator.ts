import { createParamDecorator, ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Role } from '@pulse/protocol';
import type { Request } from 'express';
import type { Principal } from './principal';

/**
 * The route metadata the {@link RolesGuard} reads, and the parameter decorator that hands a
 * handler the principal the guard found. Owns these declarations only.
 *
 * Without a decorator a GET needs `viewer` and any other method `admin`: a new write route is
 * closed until someone decides who may use it.
 */
export const ROLES_KEY = 'pulse:role';
export const PUBLIC_KEY = 'pulse:public';
export const SCOPE_FILTERED_KEY = 'pulse:scope-filtered';

/** The least role a route needs (on a handler, or on a controller for all its routes). */
export const Roles = (role: Role) => SetMetadata(ROLES_KEY, role);

/** Anyone may call the route (login, setup, me, health); the principal is still resolved. */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

/**
 * The route filters what it returns by the caller's group scope (`groupScope`), so a scoped
 * principal (a wall screen, a scoped token) may use it. Without it a scoped principal gets 403:
 * a new route shows nothing fleet-wide to a screen until someone decides it filters.
 */
export const ScopeFiltered = () => SetMetadata(SCOPE_FILTERED_KEY, true);

/** Request with the principal the guard attached. */
export type AuthenticatedRequest = Request & { principal?: Principal };

/** The caller's {@link Principal} (set by the guard, which runs on every route). */
export const CurrentPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Principal => {
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (!principal) throw new Error('RolesGuard did not run before this handler');
    return principal;
  },
);
