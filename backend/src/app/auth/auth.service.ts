import {
  Inject,
  Injectable,
  Logger,
  OnModuleDestroy,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import {
  AnonymousRole,
  AUTH_LIMITS,
  AuthUser,
  CreateTokenResponse,
  SESSION_COOKIE,
  TokenInfo,
} from '@pulse/protocol';
import { randomUUID } from 'node:crypto';
import { BatchedTimes } from '../common/batched-times';
import { isLoopbackHost } from '../common/loopback';
import { CONFIG, Config, StartupError } from '../config/config';
import { LiveSessions } from './live-sessions';
import type { Principal } from './principal';
import { TokenSigner } from './token-signer';
import { TokenKind, TokenRow, UsersRepository } from './users.repository';

/**
 * Sessions and bearer tokens: issues them (a JWT whose `jti` is a `tokens` row), turns a
 * presented one back into a {@link Principal}, revokes them. Every check of a presented token
 * goes through {@link verify}: signature and expiry (jose), then the row (not revoked) and the
 * user (exists, not disabled; the role is read now, so a demotion takes effect at once).
 * Display tokens of wall screens verify through the {@link SCREEN_TOKENS} port (the screens
 * feature owns them). Revoking, or a change to a user, reaches the sockets already open through
 * {@link LiveSessions}. Owns no HTTP or Socket.IO code (the guard, the controllers and LiveAuth
 * call it) and no password checks (LoginService).
 */

/** DI token of the screens feature's display-token check (a port: auth must not import it). */
export const SCREEN_TOKENS = Symbol('SCREEN_TOKENS');
export interface ScreenTokens {
  /** The screen principal of a well-signed display token, or null (revoked, expired, unknown). */
  principalFor(screenId: string, tokenId: string): Principal | null;
}

/**
 * How often the open sockets of every signed-in principal are checked again, so one whose token
 * or session expired is cut within this time (revocations and user changes cut them at once).
 */
export const SESSION_SWEEP_MS = 60_000;

/** How soon a token's noted use is written (with every other noted since, one transaction). */
export const TOKEN_USES_FLUSH_MS = 2_000;
/** Token uses noted and not yet written; at this many they are written at once. */
export const TOKEN_USES_MAX = 1_000;

/** Browser session lifetime: a working day; sign in again after. */
export const SESSION_TTL_MS = 12 * 3_600_000;

/** ANONYMOUS_ROLE, or its default for the HOST; throws StartupError for operator/admin. */
export function anonymousRoleOf(
  config: Pick<Config, 'ANONYMOUS_ROLE' | 'HOST'> & Partial<Pick<Config, 'TRUST_PROXY'>>,
): AnonymousRole {
  const role = config.ANONYMOUS_ROLE;
  if (role === 'operator' || role === 'admin')
    throw new StartupError(
      `ANONYMOUS_ROLE=${role} would let anyone who reaches Pulse ${role === 'admin' ? 'change rules and users' : 'acknowledge alerts'} without signing in: use viewer or none (docs/decisions/0009-users-and-tokens.md)`,
    );
  // A loopback HOST means only this machine reaches the gateway, unless a proxy on this machine
  // forwards the world to it: with TRUST_PROXY set, anonymous viewing is as off as on any other
  // address (an operator test drive read the devices through nginx from anywhere).
  const onlyThisMachine = isLoopbackHost(config.HOST) && (config.TRUST_PROXY ?? []).length === 0;
  return role ?? (onlyThisMachine ? 'viewer' : 'none');
}

/** What a request or handshake presented: an explicit bearer token and/or the session cookie. */
export interface Credentials {
  bearer?: string;
  cookie?: string;
}

@Injectable()
export class AuthService implements OnModuleInit, OnModuleDestroy {
  readonly anonymousRole: AnonymousRole;
  private readonly logger = new Logger('Auth');
  private sweep: ReturnType<typeof setInterval> | null = null;
  /** Token id → when it was presented, not yet written (see recordUse). */
  private readonly uses = new BatchedTimes(
    (times) => this.repo.recordTokenUses(times, AUTH_LIMITS.lastUsedResolutionMs),
    {
      flushMs: TOKEN_USES_FLUSH_MS,
      max: TOKEN_USES_MAX,
      failed: (error) =>
        this.logger.warn(`tokens' last use not saved: ${(error as Error).message}`),
    },
  );

  constructor(
    @Inject(CONFIG)
    config: Pick<Config, 'ANONYMOUS_ROLE' | 'HOST'> & Partial<Pick<Config, 'TRUST_PROXY'>>,
    private readonly repo: UsersRepository,
    private readonly signer: TokenSigner,
    /** The open sockets per token; shared with LiveAuth and the screens feature. */
    readonly sessions: LiveSessions = new LiveSessions(),
    @Optional() @Inject(SCREEN_TOKENS) private readonly screens?: ScreenTokens,
  ) {
    this.anonymousRole = anonymousRoleOf(config);
  }

  onModuleInit(): void {
    this.sweep = setInterval(
      () =>
        this.sessions.recheck(
          () => true,
          (p) => this.recheck(p, true),
        ),
      SESSION_SWEEP_MS,
    );
    this.sweep.unref();
  }

  onModuleDestroy(): void {
    if (this.sweep) clearInterval(this.sweep);
    this.uses.flush(); // a failure is logged (the database may be closed already)
  }

  setupRequired(): boolean {
    return this.repo.countUsers() === 0;
  }

  /**
   * The principal of a request. An explicit bearer token that does not verify is a refusal
   * (null): the client meant to authenticate. A stale cookie is not: the browser sends it on
   * its own, so the client is simply anonymous (and may still watch as a viewer).
   */
  async principalFor(credentials: Credentials): Promise<Principal | null> {
    if (credentials.bearer !== undefined) return this.verifyBearer(credentials.bearer);
    if (credentials.cookie !== undefined) {
      const session = await this.verify(credentials.cookie, 'session');
      if (session) return session;
    }
    return { kind: 'anonymous', role: this.anonymousRole };
  }

  /** A user principal for a valid token of `kind`, or null. */
  async verify(token: string, kind: TokenKind): Promise<Principal | null> {
    const claims = await this.signer.verify(token);
    if (!claims || claims.kind !== kind) return null;
    return this.presented(claims.jti, claims.sub, kind);
  }

  /** A bearer token (`Authorization`, `auth.token`): a user's token or a screen's display token. */
  private async verifyBearer(token: string): Promise<Principal | null> {
    const claims = await this.signer.verify(token);
    if (!claims) return null;
    if (claims.kind === 'screen') return this.screens?.principalFor(claims.sub, claims.jti) ?? null;
    return claims.kind === 'token' ? this.presented(claims.jti, claims.sub, 'token') : null;
  }

  /**
   * {@link userPrincipal} for a token a client presented now (a request, a handshake, not the
   * sweep's recheck): its row records the use, to the minute, for the Access page.
   */
  private presented(tokenId: string, username: string, kind: TokenKind): Principal | null {
    const row = this.repo.findToken(tokenId);
    const principal = this.userPrincipal(tokenId, username, kind, row);
    if (principal && row) this.recordUse(row);
    return principal;
  }

  /**
   * A valid bearer token in use now: its `lastUsedAt` is due when it was written a minute ago or
   * more, and then noted, to be written with the others in one transaction within
   * TOKEN_USES_FLUSH_MS (a commit is a WAL sync: a reconnect storm of scripts must not be one per
   * handshake on the event loop). Sessions are not listed anywhere, so their use is not written.
   */
  private recordUse(row: TokenRow): void {
    if (row.kind !== 'token') return;
    const now = Date.now();
    if (row.lastUsedAt != null && now - row.lastUsedAt < AUTH_LIMITS.lastUsedResolutionMs) return;
    this.uses.note(row.id, now);
  }

  /**
   * The principal as the store says now (revoked, disabled, role changed), or null. `inUse`:
   * asked by the sweep for a token with sockets open, which is a use of it (a screen on a scoped
   * token holds one connection for weeks; the Access page must not show it as unused).
   */
  recheck(principal: Principal, inUse = false): Principal | null {
    if (principal.kind === 'anonymous') return principal;
    if (principal.kind === 'screen')
      return this.screens?.principalFor(principal.screenId, principal.tokenId) ?? null;
    const row = this.repo.findToken(principal.tokenId);
    const fresh = row ? this.userPrincipal(row.id, principal.username, row.kind, row) : null;
    if (fresh && row && inUse) this.recordUse(row);
    return fresh;
  }

  private userPrincipal(
    tokenId: string,
    username: string,
    kind: TokenKind,
    row = this.repo.findToken(tokenId),
  ): Principal | null {
    if (!row || row.revokedAt !== null || row.expiresAt <= Date.now()) return null;
    if (row.username !== username || row.kind !== kind) return null;
    const user = this.repo.findUser(row.username);
    if (!user || user.disabled) return null;
    return {
      kind: 'user',
      username: user.username,
      role: user.role,
      groups: row.groups,
      tokenId: row.id,
    };
  }

  /**
   * A user's role, password or state changed: their open sockets are checked again now (gone
   * when no longer valid, the new role in effect otherwise).
   */
  userChanged(username: string): void {
    this.sessions.recheck(
      (p) => p.kind === 'user' && p.username === username,
      (p) => this.recheck(p),
    );
  }

  /** A browser session for a user who just proved who they are. */
  async startSession(user: AuthUser): Promise<{ token: string; expiresAt: number }> {
    const now = Date.now();
    this.repo.pruneExpired(now);
    const { token, expiresAt } = await this.issue(user.username, 'session', {
      name: null,
      groups: null,
      parentId: null,
      createdAt: now,
      expiresAt: now + SESSION_TTL_MS,
    });
    return { token, expiresAt };
  }

  /**
   * A bearer token for `username`; null when the user already holds
   * AUTH_LIMITS.maxTokensPerUser live tokens. `askedWith` is the id of the session or token
   * the request came with (null: none, e.g. a test harness): a token asked for with a bearer
   * token expires no later than that one, so a short-lived token cannot mint a longer one
   * (the answer's `expiresAt` says so; decision 0059) and is revoked with it (its parent,
   * decision 0060). A session asks within the usual limits and is no parent: signing out of the
   * browser leaves a script's tokens alone.
   */
  async createToken(
    username: string,
    request: { name: string; ttlSeconds?: number; groups?: string[] },
    askedWith: string | null,
  ): Promise<CreateTokenResponse | null> {
    const now = Date.now();
    // Read before pruning: an asking row gone (expired a moment ago) caps at now, not at nothing.
    const asking = askedWith === null ? null : this.repo.findToken(askedWith);
    const notAfter =
      askedWith === null || asking?.kind === 'session' ? Infinity : (asking?.expiresAt ?? now);
    this.repo.pruneExpired(now);
    if (this.repo.countLiveTokens(username, 'token', now) >= AUTH_LIMITS.maxTokensPerUser)
      return null;
    const ttlSeconds = request.ttlSeconds ?? AUTH_LIMITS.defaultTokenTtlSeconds;
    return this.issue(username, 'token', {
      name: request.name,
      groups: request.groups ?? null,
      parentId: asking?.kind === 'token' ? asking.id : null,
      createdAt: now,
      expiresAt: Math.min(now + ttlSeconds * 1000, notAfter),
    });
  }

  /**
   * The live bearer tokens of `username` (sessions are not listed) for `by`: its own, or any
   * user's for an admin. Never the tokens themselves: the store does not keep them.
   */
  listTokens(username: string, by: Principal): TokenInfo[] | 'forbidden' | 'not_found' {
    if (by.kind !== 'user' || (by.username !== username && by.role !== 'admin')) return 'forbidden';
    if (!this.repo.findUser(username)) return 'not_found';
    this.uses.flush();
    return this.repo
      .listLiveTokens(username, 'token', Date.now())
      .map(({ id, name, createdAt, expiresAt, groups, parentId, lastUsedAt }) => ({
        id,
        name: name ?? '',
        createdAt,
        expiresAt,
        ...(groups === null ? {} : { groups }),
        ...(parentId === null ? {} : { parentId }),
        ...(lastUsedAt == null ? {} : { lastUsedAt }),
      }));
  }

  /**
   * Revoke a token or session by id on behalf of `by`: its own, or any for an admin.
   * 'not_found' also for someone else's token (its existence is not disclosed). A group-scoped
   * token may revoke itself and nothing else, whatever its user's role: it is handed out to
   * watch some groups, not to manage anyone's credentials ('forbidden' for any other id, known
   * or not). The tokens made with it go too, and theirs (decision 0060), their sockets cut.
   */
  revoke(id: string, by: Principal): 'revoked' | 'not_found' | 'forbidden' {
    if (by.kind !== 'user') return 'not_found';
    if (by.groups !== null && id !== by.tokenId) return 'forbidden';
    const row = this.repo.findToken(id);
    if (!row || (row.username !== by.username && by.role !== 'admin')) return 'not_found';
    this.revokeTree(id);
    return 'revoked';
  }

  /** Logout: the session (or token) the principal used is revoked, with the tokens it made. */
  revokeOwn(principal: Principal): void {
    if (principal.kind !== 'user') return;
    this.revokeTree(principal.tokenId);
  }

  /** One session or token and every token made with it, transitively; their sockets are cut. */
  private revokeTree(id: string): void {
    const revoked = this.repo.revokeTokenTree(id, Date.now());
    this.sessions.disconnectTokens(revoked.includes(id) ? revoked : [id, ...revoked]);
  }

  /** Every session and token of a user (disabled, deleted, password changed). */
  revokeUser(username: string): void {
    this.repo.revokeUserTokens(username, Date.now());
    this.userChanged(username);
  }

  /**
   * Every session and token of a user but the one they are using (their own password change);
   * how many were revoked. Their open sockets on the others are cut.
   */
  revokeOthers(principal: { username: string; tokenId: string }): number {
    const revoked = this.repo.revokeUserTokens(principal.username, Date.now(), principal.tokenId);
    this.userChanged(principal.username);
    return revoked;
  }

  private async issue(
    username: string,
    kind: TokenKind,
    row: Pick<TokenRow, 'name' | 'groups' | 'parentId' | 'createdAt' | 'expiresAt'>,
  ): Promise<CreateTokenResponse> {
    const { expiresAt } = row;
    const id = randomUUID();
    const stored = { ...row, id, username, kind, revokedAt: null };
    // A session is a sign-in: its time is written with it (the Access page's "last signed in").
    if (kind === 'session') this.repo.insertSession(stored);
    else this.repo.insertToken(stored);
    return {
      id,
      token: await this.signer.sign({ sub: username, jti: id, kind }, expiresAt),
      expiresAt,
    };
  }
}

/** The value of one cookie in a Cookie header (no cookie-parser: Pulse reads just this one). */
export function sessionCookie(header: string | undefined): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}

/** The token of an `Authorization: Bearer …` header. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : undefined;
}
