import { AUTH_LIMITS } from '@pulse/protocol';
import { SESSION_SWEEP_MS, TOKEN_USES_FLUSH_MS } from './auth.service';
import type { SessionSocket } from './live-sessions';
import type { Principal } from './principal';
import { createAuthHarness } from './testing/auth.harness';

// Real: the SQLite store, jose and AuthService; the clock and the sweep's interval are Jest's.
describe('AuthService: when a token was last used', () => {
  const T0 = Date.UTC(2026, 11, 7, 12);
  let harness: ReturnType<typeof createAuthHarness>;
  beforeEach(() => {
    jest.useFakeTimers({ now: T0, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    harness = createAuthHarness();
  });
  afterEach(() => {
    harness.auth.onModuleDestroy();
    harness.close();
    jest.useRealTimers();
  });

  /** Ann's token as the store says: presented with `token`, listed as its owner sees it. */
  const signedIn = async (token: string): Promise<Principal> => {
    const principal = await harness.auth.principalFor({ bearer: token });
    if (principal?.kind !== 'user') throw new Error('the token did not verify');
    return principal;
  };
  const lastUse = (principal: Principal) => {
    const listed = harness.auth.listTokens('ann', principal);
    if (!Array.isArray(listed)) throw new Error(`listTokens: ${listed}`);
    return listed[0]?.lastUsedAt;
  };

  it('is written when the token is presented, at most once a minute', async () => {
    const token = await harness.tokenFor('ann', 'viewer');
    const principal = await signedIn(token);
    expect(principal).toMatchObject({ kind: 'user', username: 'ann' });
    expect(lastUse(principal)).toBe(T0);

    jest.setSystemTime(T0 + AUTH_LIMITS.lastUsedResolutionMs - 1);
    await signedIn(token);
    expect(lastUse(principal)).toBe(T0);
    jest.setSystemTime(T0 + AUTH_LIMITS.lastUsedResolutionMs);
    await signedIn(token);
    expect(lastUse(principal)).toBe(T0 + AUTH_LIMITS.lastUsedResolutionMs);
  });

  it('is written within seconds without anyone asking, many uses in one go, sessions not', async () => {
    const tokens = await Promise.all(['a', 'b', 'c'].map((u) => harness.tokenFor(u, 'viewer')));
    const ids = await Promise.all(
      tokens.map(async (token) => {
        const principal = await harness.auth.principalFor({ bearer: token });
        return principal?.kind === 'user' ? principal.tokenId : '';
      }),
    );
    const written = () => ids.map((id) => harness.repo.findToken(id)?.lastUsedAt);
    expect(written()).toEqual([null, null, null]); // noted, not yet written
    jest.advanceTimersByTime(TOKEN_USES_FLUSH_MS);
    expect(written()).toEqual([T0, T0, T0]);

    const session = await harness.auth.startSession({ username: 'a', role: 'viewer' });
    const byCookie = await harness.auth.principalFor({ cookie: session.token });
    expect(byCookie?.kind).toBe('user');
    jest.advanceTimersByTime(TOKEN_USES_FLUSH_MS);
    const sessionId = byCookie?.kind === 'user' ? byCookie.tokenId : '';
    expect(harness.repo.findToken(sessionId)?.lastUsedAt).toBeNull();
  });

  it('moves on while a connection made with it stays open, and not after it closed', async () => {
    const token = await harness.tokenFor('ann', 'viewer');
    const principal = await signedIn(token);
    const socket: SessionSocket = {
      id: 'wall',
      data: { principal },
      conn: { transport: { name: 'websocket' } },
      disconnect: () => harness.auth.sessions.forget(socket),
    };
    harness.auth.sessions.track(socket);
    harness.auth.onModuleInit(); // the expiry sweep, every SESSION_SWEEP_MS

    jest.advanceTimersByTime(5 * SESSION_SWEEP_MS);
    expect(lastUse(principal)).toBe(T0 + 5 * SESSION_SWEEP_MS);

    harness.auth.sessions.forget(socket);
    jest.advanceTimersByTime(5 * SESSION_SWEEP_MS);
    expect(lastUse(principal)).toBe(T0 + 5 * SESSION_SWEEP_MS);
  });

  describe('when writing it fails (a locked or failing store)', () => {
    /** Every write of `column` in `table` fails as SQLite reports a busy or failing disk. */
    const failWrites = (table: string, column: string) =>
      harness.database.db.exec(
        `CREATE TRIGGER fail_${column} BEFORE UPDATE OF ${column} ON ${table}
         BEGIN SELECT RAISE(ABORT, 'database is locked'); END`,
      );

    it('the token list still answers, with the uses written before', async () => {
      const token = await harness.tokenFor('ann', 'viewer');
      const principal = await signedIn(token);
      expect(lastUse(principal)).toBe(T0);
      failWrites('tokens', 'last_used_at');
      jest.setSystemTime(T0 + AUTH_LIMITS.lastUsedResolutionMs);
      await signedIn(token);
      expect(harness.auth.listTokens('ann', principal)).toEqual([
        expect.objectContaining({ name: 'test', lastUsedAt: T0 }),
      ]);
    });

    it('a sign-in fails whole: no session is left behind that nobody holds', async () => {
      harness.repo.insertUser({
        username: 'bob',
        role: 'viewer',
        passwordHash: '-',
        createdAt: T0,
        disabled: false,
      });
      failWrites('users', 'last_sign_in_at');
      // Not `toThrow`: better-sqlite3 makes its errors with the class of the first test file
      // that loaded it, which is no `Error` of this file's realm when Jest runs several in one.
      await expect(
        harness.auth.startSession({ username: 'bob', role: 'viewer' }),
      ).rejects.toHaveProperty('message', 'database is locked');
      expect(harness.repo.countLiveTokens('bob', 'session', T0)).toBe(0);
    });
  });
});
