import { Logger } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecurityCounters } from '../security/security-counters.service';
import { Database } from '../store/database';
import { AuthService } from './auth.service';
import { LOGIN_ADDRESS_ATTEMPTS, LOGIN_ATTEMPTS, LoginService } from './login.service';
import { hashPassword } from './password';
import { TokenSigner } from './token-signer';
import { UsersRepository } from './users.repository';

// Real: the SQLite store in a temp dir, argon2id, the limiter, the counters, the signer. The
// interleavings are made by running the owner's change where it can land: after the login has
// read the user and while its password is still being checked (off the event loop).
describe('LoginService', () => {
  let dir: string;
  let database: Database;
  let repo: UsersRepository;
  let counters: SecurityCounters;
  let login: LoginService;

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    dir = mkdtempSync(join(tmpdir(), 'pulse-login-'));
    const config = { DATA_DIR: dir, ANONYMOUS_ROLE: 'none' as const, HOST: '127.0.0.1' };
    database = new Database(config);
    repo = new UsersRepository(database);
    counters = new SecurityCounters();
    const auth = new AuthService(config, repo, new TokenSigner(config));
    login = new LoginService(config, repo, counters, auth);
    repo.insertUser({
      username: 'ana',
      role: 'operator',
      passwordHash: await hashPassword('old-password-1'),
      createdAt: Date.now(),
      disabled: false,
    });
  });
  afterEach(() => {
    jest.restoreAllMocks();
    database.onApplicationShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Run `change` right after the login's read of the user, before its check is done. */
  function landDuringCheck(change: () => void) {
    const read = repo.findUser.bind(repo);
    jest.spyOn(repo, 'findUser').mockImplementationOnce((name) => {
      const row = read(name);
      change();
      return row;
    });
  }

  it('signs in with the current password', async () => {
    expect(await login.login({ username: 'ana', password: 'old-password-1' }, '10.0.0.5')).toEqual({
      ok: true,
      user: { username: 'ana', role: 'operator' },
    });
  });

  it('refuses the old password when the owner changed it while the login was being checked', async () => {
    const newHash = await hashPassword('new-password-2');
    landDuringCheck(() => repo.updateUser('ana', { passwordHash: newHash }));
    const outcome = await login.login({ username: 'ana', password: 'old-password-1' }, '10.0.0.5');
    expect(outcome).toEqual({ ok: false, reason: 'invalid' });
    expect(counters.stats().refused.login_failed).toBe(1);
    // The new one signs in.
    expect(
      (await login.login({ username: 'ana', password: 'new-password-2' }, '10.0.0.5')).ok,
    ).toBe(true);
  });

  it('refuses an address that sprayed one password over many usernames, even for the right password, and no other address', async () => {
    const spray = (i: number) =>
      login.login({ username: `user-${i}`, password: 'Summer2026!!' }, '10.0.0.5');
    // Each username stays under its own budget: only the address's budget stops the spray.
    expect(LOGIN_ADDRESS_ATTEMPTS).toBeGreaterThan(LOGIN_ATTEMPTS);
    for (let i = 0; i < LOGIN_ADDRESS_ATTEMPTS; i++)
      expect(await spray(i)).toEqual({ ok: false, reason: 'invalid' });
    const refused = await spray(LOGIN_ADDRESS_ATTEMPTS);
    expect(refused).toMatchObject({ ok: false, reason: 'rate_limited' });
    expect(
      refused.ok === false && refused.reason === 'rate_limited' && refused.retryAfterSeconds,
    ).toBeGreaterThan(0);
    expect(
      (await login.login({ username: 'ana', password: 'old-password-1' }, '10.0.0.5')).ok,
    ).toBe(false);
    expect(counters.stats().refused.login_address_rate).toBe(2);
    expect(counters.stats().refused.login_failed).toBe(LOGIN_ADDRESS_ATTEMPTS);
    // Someone else, behind another address, signs in.
    expect(
      (await login.login({ username: 'ana', password: 'old-password-1' }, '10.0.0.6')).ok,
    ).toBe(true);
  }, 60_000);

  it('refuses a user disabled while the login was being checked', async () => {
    landDuringCheck(() => repo.updateUser('ana', { disabled: true }));
    const outcome = await login.login({ username: 'ana', password: 'old-password-1' }, '10.0.0.5');
    expect(outcome).toEqual({ ok: false, reason: 'invalid' });
  });
});
