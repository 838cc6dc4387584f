import {
  CanActivate,
  ExecutionContext,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Role } from '@pulse/protocol';
import { quote } from '@pulse/protocol';
import { SecurityCounters } from '../security/security-counters.service';
import { AuthService, bearerToken, sessionCookie } from './auth.service';
import { groupScope, refusal } from './principal';
import { AuthenticatedRequest, PUBLIC_KEY, ROLES_KEY, SCOPE_FILTERED_KEY } from './roles.decorator';

/**
 * The one role check of the REST API (a global guard): finds the caller's principal (bearer
 * token, else session cookie, else anonymous with ANONYMOUS_ROLE), attaches it to the request
 * and refuses with 401 (no identity) or 403 (role too weak, or a group-scoped principal on a
 * route not marked `@ScopeFiltered`), each counted and logged
 * (rate-limited) in SecurityCounters. Owns the decision per route; the routes only declare
 * what they need (`@Roles`, `@Public`).
 */
@Injectable()
export class RolesGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
    private readonly counters: SecurityCounters,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const targets = [context.getHandler(), context.getClass()];
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets) === true;
    const principal = await this.auth.principalFor({
      bearer: bearerToken(req.headers.authorization),
      cookie: sessionCookie(req.headers.cookie),
    });
    const what = `${req.method} ${quote(req.path, 80)}`;
    if (principal === null) {
      if (isPublic) {
        req.principal = { kind: 'anonymous', role: this.auth.anonymousRole };
        return true;
      }
      this.counters.refuse('http_unauthorized', `${what}: invalid or revoked bearer token`);
      throw new UnauthorizedException('invalid, expired or revoked token');
    }
    req.principal = principal;
    if (isPublic) return true;
    const needed =
      this.reflector.getAllAndOverride<Role>(ROLES_KEY, targets) ??
      (req.method === 'GET' || req.method === 'HEAD' ? 'viewer' : 'admin');
    const refused = refusal(principal, needed);
    if (refused === null) {
      const filtered = this.reflector.getAllAndOverride<boolean>(SCOPE_FILTERED_KEY, targets);
      if (filtered === true || groupScope(principal) === null) return true;
      this.counters.refuse('http_forbidden', `${what}: not open to a group-scoped token`);
      throw new ForbiddenException('a group-scoped token cannot use this');
    }
    if (refused === 'unauthorized') {
      this.counters.refuse('http_unauthorized', `${what} needs ${needed}: not signed in`);
      throw new UnauthorizedException(`sign in: this needs the ${needed} role`);
    }
    this.counters.refuse(
      'http_forbidden',
      `${what} needs ${needed}: ${principal.kind === 'user' ? principal.username : principal.kind}`,
    );
    throw new ForbiddenException(`this needs the ${needed} role`);
  }
}
