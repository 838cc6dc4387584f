import {
  Body,
  ConflictException,
  Controller,
  Delete,
  ForbiddenException,
  Get,
  Header,
  HttpCode,
  HttpException,
  HttpStatus,
  NotFoundException,
  Param,
  Post,
  Query,
  Req,
  Res,
  UnauthorizedException,
} from '@nestjs/common';
import {
  AUTH_LIMITS,
  ChangePasswordRequest,
  ChangePasswordRequestSchema,
  CreateTokenRequest,
  CreateTokenRequestSchema,
  CreateTokenResponse,
  LoginRequest,
  LoginRequestSchema,
  LoginResponse,
  MeResponse,
  SESSION_COOKIE,
  SetupRequest,
  SetupRequestSchema,
  TokenListQuery,
  TokenListQuerySchema,
  TokenListResponse,
  quote,
} from '@pulse/protocol';
import type { CookieOptions, Request, Response } from 'express';
import { ClientAddress } from '../common/client-address';
import { ZodValidationPipe } from '../common/zod-validation.pipe';
import { SecurityCounters } from '../security/security-counters.service';
import { AuthService, SESSION_TTL_MS } from './auth.service';
import { LoginService } from './login.service';
import type { Principal } from './principal';
import { CurrentPrincipal, Public, Roles, ScopeFiltered } from './roles.decorator';

/**
 * `/api/auth`: who am I, login/logout (the `pulse_session` cookie), first-admin setup, one's own
 * password and bearer tokens. Thin: LoginService proves identities, AuthService issues and
 * revokes; this maps outcomes to status codes and owns the cookie's attributes.
 */
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly login: LoginService,
    private readonly addresses: ClientAddress,
    private readonly counters: SecurityCounters,
  ) {}

  @Public()
  @Get('me')
  me(@CurrentPrincipal() principal: Principal): MeResponse {
    return {
      user:
        principal.kind === 'user' ? { username: principal.username, role: principal.role } : null,
      anonymousRole: this.auth.anonymousRole,
      setupRequired: this.auth.setupRequired(),
      // Only for a wall screen's display token (older clients compare the rest exactly).
      ...(principal.kind === 'screen'
        ? { screen: { id: principal.screenId, name: principal.name } }
        : {}),
    };
  }

  /**
   * 200 + cookie; 401 `{error: 'invalid credentials'}`; 429 after too many failures; 503 while
   * the gateway checks as many passwords as it allows. `no-store` as every answer that carries a
   * credential (the cookie is the session).
   */
  @Public()
  @Post('login')
  @Header('Cache-Control', 'no-store')
  @HttpCode(200)
  async signIn(
    @Body(new ZodValidationPipe(LoginRequestSchema)) body: LoginRequest,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<LoginResponse> {
    const outcome = await this.login.login(body, this.addresses.of(req));
    if (outcome.ok) return this.startSession(outcome.user, req, res);
    if (outcome.reason === 'invalid')
      throw new UnauthorizedException({ error: 'invalid credentials' });
    throw refusal(outcome, res);
  }

  /** 204: the session is revoked and the cookie cleared (also when there was none). */
  @Public()
  @Post('logout')
  @HttpCode(204)
  signOut(
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): void {
    this.auth.revokeOwn(principal);
    res.clearCookie(SESSION_COOKIE, cookieOptions(req));
  }

  /** 201 + cookie (`no-store`); 409 once any user exists; 403 from elsewhere without the setup code. */
  @Public()
  @Post('setup')
  @Header('Cache-Control', 'no-store')
  async setup(
    @Body(new ZodValidationPipe(SetupRequestSchema)) body: SetupRequest,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<LoginResponse> {
    const outcome = await this.login.setup(body, {
      address: this.addresses.of(req),
      loopback: this.addresses.isLocal(req),
    });
    if (outcome.ok) return this.startSession(outcome.user, req, res);
    if (outcome.reason === 'exists') throw new ConflictException({ error: 'already set up' });
    throw new ForbiddenException({ error: 'setup code required' });
  }

  /**
   * A bearer token for the caller (signed in); `groups` (a scope) only from an admin. Asked for
   * with a bearer token, it expires no later than that token. `no-store`: the token is in the
   * answer, once.
   */
  @Roles('viewer')
  @Post('tokens')
  @Header('Cache-Control', 'no-store')
  async createToken(
    @Body(new ZodValidationPipe(CreateTokenRequestSchema)) body: CreateTokenRequest,
    @CurrentPrincipal() principal: Principal,
  ): Promise<CreateTokenResponse> {
    if (principal.kind !== 'user') throw new UnauthorizedException('sign in to create a token');
    // A scoped token must not mint a wider one; only admins hand out scopes.
    if (principal.groups !== null)
      throw new ForbiddenException('a group-scoped token cannot create tokens');
    if (body.groups !== undefined && principal.role !== 'admin')
      throw new ForbiddenException('only an admin may issue group-scoped tokens');
    const token = await this.auth.createToken(principal.username, body, principal.tokenId);
    if (!token)
      throw new ConflictException(
        `at most ${AUTH_LIMITS.maxTokensPerUser} live tokens per user: revoke one first`,
      );
    return token;
  }

  /**
   * The caller's live bearer tokens, newest first (never the tokens themselves); `?user=`
   * another user's, for an admin (to find one to revoke). Who may: as for creating one.
   */
  @Roles('viewer')
  @Get('tokens')
  listTokens(
    @Query(new ZodValidationPipe(TokenListQuerySchema)) query: TokenListQuery,
    @CurrentPrincipal() principal: Principal,
  ): TokenListResponse {
    if (principal.kind !== 'user') throw new UnauthorizedException('sign in to list your tokens');
    const username = query.user ?? principal.username;
    const tokens = this.auth.listTokens(username, principal);
    if (tokens === 'forbidden')
      throw new ForbiddenException("only an admin may list another user's tokens");
    if (tokens === 'not_found') throw new NotFoundException(`no user "${username}"`);
    return { tokens };
  }

  /**
   * 204; 404 for an unknown id or another user's token (unless admin). Open to a group-scoped
   * token for its own id only: 403 (counted) for any other, as the guard refuses it elsewhere.
   */
  @Roles('viewer')
  @ScopeFiltered()
  @Delete('tokens/:id')
  @HttpCode(204)
  revokeToken(@Param('id') id: string, @CurrentPrincipal() principal: Principal): void {
    if (principal.kind !== 'user') throw new UnauthorizedException('sign in to revoke a token');
    const outcome = this.auth.revoke(id, principal);
    if (outcome === 'forbidden') {
      this.counters.refuse(
        'http_forbidden',
        `DELETE /api/auth/tokens/${quote(id, 80)}: a group-scoped token of ${principal.username} may revoke only itself`,
      );
      throw new ForbiddenException('a group-scoped token may revoke only itself');
    }
    if (outcome === 'not_found') throw new NotFoundException(`no token "${id}"`);
  }

  /**
   * The signed-in user's own password, the current one required: 204, and every other session
   * and token of theirs is revoked; 403 `{error: 'wrong password'}` (not 401: the caller is
   * signed in, and clients read 401 as signed out); 429 after too many wrong ones, with the
   * login's limiter. Not for a group-scoped token (the guard: 403).
   */
  @Roles('viewer')
  @Post('password')
  @HttpCode(204)
  async changePassword(
    @Body(new ZodValidationPipe(ChangePasswordRequestSchema)) body: ChangePasswordRequest,
    @CurrentPrincipal() principal: Principal,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<void> {
    if (principal.kind !== 'user')
      throw new UnauthorizedException('sign in to change your password');
    const outcome = await this.login.changePassword(principal, body, this.addresses.of(req));
    if (outcome.ok) return;
    if (outcome.reason === 'wrong_password')
      throw new ForbiddenException({ error: 'wrong password' });
    throw refusal(outcome, res);
  }

  private async startSession(
    user: LoginResponse['user'],
    req: Request,
    res: Response,
  ): Promise<LoginResponse> {
    const session = await this.auth.startSession(user);
    res.cookie(SESSION_COOKIE, session.token, { ...cookieOptions(req), maxAge: SESSION_TTL_MS });
    return { user };
  }
}

/**
 * 429 `{error: 'too many attempts'}` when a login budget is spent; 503 `{error: 'busy'}` when the
 * gateway runs as many password checks as it allows (nothing was checked: try again). Both with
 * `Retry-After`.
 */
function refusal(
  outcome: { reason: 'rate_limited' | 'busy'; retryAfterSeconds: number },
  res: Response,
): HttpException {
  res.setHeader('Retry-After', String(outcome.retryAfterSeconds));
  return outcome.reason === 'busy'
    ? new HttpException({ error: 'busy' }, HttpStatus.SERVICE_UNAVAILABLE)
    : new HttpException({ error: 'too many attempts' }, HttpStatus.TOO_MANY_REQUESTS);
}

/** HttpOnly, SameSite=Strict, Path=/, and Secure when this request came over TLS. */
function cookieOptions(req: Request): CookieOptions {
  return { httpOnly: true, sameSite: 'strict', path: '/', secure: req.secure };
}
