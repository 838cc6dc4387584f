import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import {
  AUTH_LIMITS,
  AuthUser,
  ChangePasswordRequest,
  LoginRequest,
  SetupRequest,
} from '@pulse/protocol';
import { randomInt, timingSafeEqual } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { RateLimiterAbstract, RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import { createFileOnce } from '../common/owner-only-file';
import { RedisConnections } from '../common/redis-connections';
import { CONFIG, Config, StartupError } from '../config/config';
import { SecurityCounters } from '../security/security-counters.service';
import { AuthService } from './auth.service';
import { burnVerify, hashPassword, verifyPassword } from './password';
import { PasswordChecks, passwordChecksMax } from './password-checks';
import { UsersRepository } from './users.repository';

/**
 * Proving who you are: password login (rate-limited per client address + username, and per
 * client address across usernames), a user's
 * own password change (the current password as proof, under the same limiter), the
 * first-start admin (seeded from PULSE_ADMIN_PASSWORD[_FILE], or created once over
 * `POST /api/auth/setup` from loopback or with the setup code in `${DATA_DIR}/setup-code`). Owns the
 * password checks, the login limiter and the setup code; must not issue or revoke sessions or
 * tokens itself (AuthService) or know HTTP.
 */

/** Failed logins per client address + username before it is refused for the window. */
export const LOGIN_ATTEMPTS = 10;
export const LOGIN_WINDOW_SECONDS = 15 * 60;
/**
 * Failed logins per client address, whatever the usernames, in the same window: a password
 * sprayed over many usernames stops here. Far above what one person mistypes, and above what an
 * office behind one NAT address fails in 15 minutes (docs/decisions/0062-login-budgets.md).
 */
export const LOGIN_ADDRESS_ATTEMPTS = 50;
/** Retry-After of a login answered busy (503): a check takes tens of ms, a slot frees soon. */
export const BUSY_RETRY_AFTER_SECONDS = 1;
/** Prefixes of the limiters' keys in the shared Redis (REDIS_URL). */
const REDIS_KEY_PREFIX = 'pulse:login';
const REDIS_ADDRESS_KEY_PREFIX = 'pulse:login-address';
/** Setup code alphabet: no 0/O or 1/I/l to misread off a screen. */
const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
/** The file in DATA_DIR that holds the setup code while no user exists (0600). */
export const SETUP_CODE_FILE = 'setup-code';

export type LoginOutcome =
  | { ok: true; user: AuthUser }
  | { ok: false; reason: 'invalid' }
  | { ok: false; reason: 'rate_limited' | 'busy'; retryAfterSeconds: number };

export type PasswordChangeOutcome =
  | { ok: true }
  | { ok: false; reason: 'wrong_password' }
  | { ok: false; reason: 'rate_limited' | 'busy'; retryAfterSeconds: number };

export type SetupOutcome =
  | { ok: true; user: AuthUser }
  | { ok: false; reason: 'exists' | 'code_required' };

@Injectable()
export class LoginService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Auth');
  /**
   * One budget per address + username for the whole deployment: in the shared Redis when there
   * is one (a guesser behind a load balancer reaches every gateway), else in this process. While
   * Redis cannot be reached, each gateway counts in its own memory meanwhile (insuranceLimiter):
   * still limited, never open, never waiting on Redis.
   */
  private readonly limiter: RateLimiterAbstract;
  /** One budget per address across usernames (a sprayed password), shared the same way. */
  private readonly addressLimiter: RateLimiterAbstract;
  private readonly redis: RedisConnections | null = null;
  /** Logins and password changes checking a password now: over the bound, answered busy. */
  private readonly checks = new PasswordChecks(passwordChecksMax());
  /** Set at boot while no user exists; kept in {@link codeFile}, never printed or logged. */
  private setupCode: string | null = null;

  constructor(
    @Inject(CONFIG)
    private readonly config: Pick<
      Config,
      'PULSE_ADMIN_PASSWORD' | 'PULSE_ADMIN_PASSWORD_FILE' | 'DATA_DIR'
    > &
      Partial<Pick<Config, 'REDIS_URL' | 'REDIS_PASSWORD_FILE'>>,
    private readonly repo: UsersRepository,
    private readonly counters: SecurityCounters,
    private readonly auth: AuthService,
  ) {
    const perUser = { points: LOGIN_ATTEMPTS, duration: LOGIN_WINDOW_SECONDS };
    const perAddress = { points: LOGIN_ADDRESS_ATTEMPTS, duration: LOGIN_WINDOW_SECONDS };
    if (!config.REDIS_URL) {
      this.limiter = new RateLimiterMemory(perUser);
      this.addressLimiter = new RateLimiterMemory(perAddress);
      return;
    }
    this.redis = new RedisConnections(
      { REDIS_URL: config.REDIS_URL, REDIS_PASSWORD_FILE: config.REDIS_PASSWORD_FILE },
      this.logger,
    );
    // No offline queue: a command while Redis is down fails at once and the limiter counts in
    // memory instead. With one, a success's reset (DEL, which rate-limiter-flexible sends even
    // with rejectIfRedisNotReady) waited for Redis to come back: the right password hung.
    const storeClient = this.redis.connect('login limiter', { enableOfflineQueue: false });
    const shared = (budget: typeof perUser, keyPrefix: string) =>
      new RateLimiterRedis({
        ...budget,
        storeClient,
        keyPrefix,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory(budget),
      });
    this.limiter = shared(perUser, REDIS_KEY_PREFIX);
    this.addressLimiter = shared(perAddress, REDIS_ADDRESS_KEY_PREFIX);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis?.closeAll();
  }

  async onApplicationBootstrap(): Promise<void> {
    const password = this.seedPassword();
    if (password !== undefined && !this.repo.hasAdmin()) {
      await this.seedAdmin(password);
      this.logger.log('User "admin" created from PULSE_ADMIN_PASSWORD');
    }
    if (this.repo.countUsers() > 0) {
      rmSync(this.codeFile, { force: true }); // an earlier first start's, now of no use
      return;
    }
    this.setupCode = setupCodeOnce(this.codeFile);
    // Where the code is, not the code: through the logger like every line (one JSON line with
    // LOG_FORMAT=json), and at `warn`, so the production level (LOG_LEVEL=warn) still shows it.
    this.logger.warn(
      `Pulse has no users yet. Create the admin account on the dashboard: from this machine ` +
        `without a code, from elsewhere with the one-time setup code in ${this.codeFile}; ` +
        `or restart with PULSE_ADMIN_PASSWORD set.`,
    );
  }

  private get codeFile(): string {
    return join(this.config.DATA_DIR, SETUP_CODE_FILE);
  }

  /** Same answer for an unknown user, a disabled one and a wrong password. */
  async login(request: LoginRequest, clientAddress: string): Promise<LoginOutcome> {
    const key = limiterKey(clientAddress, request.username);
    const locked = await this.lockedFor(key, clientAddress);
    if (locked !== null) {
      this.counters.refuse(
        locked.budget === 'address' ? 'login_address_rate' : 'login_rate',
        `login for ${JSON.stringify(request.username)} from ${clientAddress}`,
      );
      return { ok: false, reason: 'rate_limited', retryAfterSeconds: locked.retryAfterSeconds };
    }
    // A slot is taken before the user is looked up: known and unknown usernames wait alike.
    const checked = this.checks.run(async () => {
      const user = this.repo.findUser(request.username);
      const valid = user
        ? await verifyPassword(user.passwordHash, request.password)
        : await burnVerify(request.password);
      return { user, valid };
    });
    if (checked === null) {
      this.counters.refuse(
        'login_busy',
        `login for ${JSON.stringify(request.username)} from ${clientAddress}`,
      );
      return { ok: false, reason: 'busy', retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS };
    }
    const { user, valid } = await checked;
    if (!user || !valid || user.disabled) return this.loginFailed(key, request, clientAddress);
    // The address's budget is not reset: one account's own password must not buy a sprayer
    // another 50 guesses at the others.
    await this.limiter.delete(key);
    // The checks took a while off the event loop: a password changed (or the user disabled)
    // meanwhile makes this a check of what is no longer the user's password. Read again after
    // the last await: from here to the session's row (AuthService.startSession) nothing waits,
    // so no other request's change can land in between.
    const now = this.repo.findUser(user.username);
    if (!now || now.passwordHash !== user.passwordHash || now.disabled)
      return this.loginFailed(key, request, clientAddress);
    return { ok: true, user: { username: now.username, role: now.role } };
  }

  private async loginFailed(
    key: string,
    request: LoginRequest,
    clientAddress: string,
  ): Promise<LoginOutcome> {
    await this.penalize(key, clientAddress);
    this.counters.refuse(
      'login_failed',
      `login for ${JSON.stringify(request.username)} from ${clientAddress}`,
    );
    return { ok: false, reason: 'invalid' };
  }

  /**
   * A signed-in user's own new password, with the current one as proof: someone at an unlocked
   * browser, or holding one of the user's tokens, must not lock the owner out. A wrong current
   * password costs a point of the login limiter's key for this client address + username (one
   * budget of guesses, whichever door), and at the limit even the right one is refused. On
   * success every other session and token of the user is revoked (the one that asked stays)
   * and the change is logged, never a password. `by` was verified by the guard.
   */
  async changePassword(
    by: { username: string; tokenId: string },
    request: ChangePasswordRequest,
    clientAddress: string,
  ): Promise<PasswordChangeOutcome> {
    const name = JSON.stringify(by.username);
    const key = limiterKey(clientAddress, by.username);
    const locked = await this.lockedFor(key, clientAddress);
    if (locked !== null) {
      this.counters.refuse(
        locked.budget === 'address' ? 'login_address_rate' : 'password_rate',
        `password change for ${name} from ${clientAddress}`,
      );
      return { ok: false, reason: 'rate_limited', retryAfterSeconds: locked.retryAfterSeconds };
    }
    // The check and the new hash hold one slot: null for a wrong current password.
    const checked = this.checks.run(async () => {
      const user = this.repo.findUser(by.username);
      const valid =
        user !== null && (await verifyPassword(user.passwordHash, request.currentPassword));
      return valid ? hashPassword(request.newPassword) : null;
    });
    if (checked === null) {
      this.counters.refuse('login_busy', `password change for ${name} from ${clientAddress}`);
      return { ok: false, reason: 'busy', retryAfterSeconds: BUSY_RETRY_AFTER_SECONDS };
    }
    const passwordHash = await checked;
    if (passwordHash === null) {
      await this.penalize(key, clientAddress);
      this.counters.refuse('password_failed', `password change for ${name} from ${clientAddress}`);
      return { ok: false, reason: 'wrong_password' };
    }
    this.repo.updateUser(by.username, { passwordHash });
    const revoked = this.auth.revokeOthers(by);
    await this.limiter.delete(key);
    this.logger.log(
      `Password of ${name} changed by its owner from ${clientAddress}: ${revoked} other sessions and tokens revoked`,
    );
    return { ok: true };
  }

  /**
   * Which budget is spent (this address + username's, or this address's across usernames) and
   * the seconds until it has attempts again; null while both have attempts left.
   */
  private async lockedFor(
    key: string,
    clientAddress: string,
  ): Promise<{ budget: 'username' | 'address'; retryAfterSeconds: number } | null> {
    const [user, address] = await Promise.all([
      this.limiter.get(key),
      this.addressLimiter.get(clientAddress),
    ]);
    const wait = (seen: { msBeforeNext: number }) => Math.ceil(seen.msBeforeNext / 1000);
    if (user !== null && user.consumedPoints >= LOGIN_ATTEMPTS)
      return { budget: 'username', retryAfterSeconds: wait(user) };
    if (address !== null && address.consumedPoints >= LOGIN_ADDRESS_ATTEMPTS)
      return { budget: 'address', retryAfterSeconds: wait(address) };
    return null;
  }

  /** A failed password check costs a point of both budgets. */
  private async penalize(key: string, clientAddress: string): Promise<void> {
    await Promise.all([
      this.limiter.penalty(key, 1),
      this.addressLimiter.penalty(clientAddress, 1),
    ]);
  }

  /**
   * The first admin: only while no user exists, and from loopback or with the setup code. The
   * check before the hash answers early; the insert itself decides (setups racing each pass
   * the check while their hashes run: only the first insert finds the table empty, the others
   * write nothing). Each admin created is logged at `warn`, the production level: who, from
   * where, never the password or the code.
   */
  async setup(
    request: SetupRequest,
    from: { address: string; loopback: boolean },
  ): Promise<SetupOutcome> {
    if (this.repo.countUsers() > 0) return { ok: false, reason: 'exists' };
    if (!from.loopback && !this.codeMatches(request.setupCode)) {
      this.counters.refuse('setup_refused', 'first-admin setup without a valid setup code');
      return { ok: false, reason: 'code_required' };
    }
    const passwordHash = await hashPassword(request.password);
    const created = this.repo.insertFirstUser({
      username: request.username,
      role: 'admin',
      passwordHash,
      createdAt: Date.now(),
      disabled: false,
    });
    if (!created) return { ok: false, reason: 'exists' };
    this.setupCode = null;
    rmSync(this.codeFile, { force: true });
    this.logger.warn(
      `Admin ${JSON.stringify(request.username)} created by first-admin setup from ${from.address}` +
        (from.loopback ? ' (this machine)' : ' (with the setup code)'),
    );
    return { ok: true, user: { username: request.username, role: 'admin' } };
  }

  private codeMatches(given: string | undefined): boolean {
    if (this.setupCode === null || given === undefined) return false;
    const a = Buffer.from(given.toUpperCase());
    const b = Buffer.from(this.setupCode);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private seedPassword(): string | undefined {
    const { PULSE_ADMIN_PASSWORD: inline, PULSE_ADMIN_PASSWORD_FILE: file } = this.config;
    let password = inline;
    if (password === undefined && file !== undefined) {
      try {
        password = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      } catch (error) {
        throw new StartupError(
          `Cannot read PULSE_ADMIN_PASSWORD_FILE ${file}: ${(error as Error).message}`,
        );
      }
    }
    if (password !== undefined && password.length < AUTH_LIMITS.minPasswordLength)
      throw new StartupError(
        `The admin password (PULSE_ADMIN_PASSWORD${inline === undefined ? '_FILE' : ''}) must be at least ${AUTH_LIMITS.minPasswordLength} characters`,
      );
    return password;
  }

  /** `admin` becomes (or is created as) an enabled admin with this password. */
  private async seedAdmin(password: string): Promise<void> {
    const passwordHash = await hashPassword(password);
    const created = this.repo.insertUser({
      username: 'admin',
      role: 'admin',
      passwordHash,
      createdAt: Date.now(),
      disabled: false,
    });
    if (!created) this.repo.updateUser('admin', { role: 'admin', passwordHash, disabled: false });
  }
}

/** The login limiter's key: one budget of password guesses per client address + username. */
function limiterKey(clientAddress: string, username: string): string {
  return `${clientAddress}|${username}`;
}

/**
 * The setup code in `file`: the one already there (another gateway on the same DATA_DIR, or an
 * earlier start, wrote it: every gateway then takes the same code), else a new one
 * (createFileOnce: if another process was first, its code).
 */
function setupCodeOnce(file: string): string {
  const valid = new RegExp(`^[${CODE_ALPHABET}]{${AUTH_LIMITS.setupCodeLength}}$`);
  const read = (): string | null => {
    try {
      const code = readFileSync(file, 'utf8').trim();
      return valid.test(code) ? code : null;
    } catch {
      return null;
    }
  };
  const held = read();
  if (held) return held;
  rmSync(file, { force: true }); // unreadable or not a code
  const code = Array.from(
    { length: AUTH_LIMITS.setupCodeLength },
    () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)],
  ).join('');
  return createFileOnce(file, `${code}\n`) ? code : (read() ?? code);
}
