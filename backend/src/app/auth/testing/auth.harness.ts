import type { AnonymousRole, Role } from '@pulse/protocol';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecurityCounters } from '../../security/security-counters.service';
import { Database } from '../../store/database';
import { AuthService } from '../auth.service';
import { LiveAuth } from '../live-auth';
import { TokenSigner } from '../token-signer';
import { UsersRepository } from '../users.repository';

/**
 * The real auth parts (SQLite store in a temp dir, signer, AuthService, LiveAuth) for unit specs
 * of code that sits behind them, e.g. the live gateway. Tests only; owns its temp dir.
 */
export function createAuthHarness(anonymousRole: AnonymousRole = 'viewer') {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-auth-'));
  const config = { DATA_DIR: dir, ANONYMOUS_ROLE: anonymousRole, HOST: '127.0.0.1' };
  const database = new Database(config);
  const repo = new UsersRepository(database);
  const auth = new AuthService(config, repo, new TokenSigner(config));
  const counters = new SecurityCounters();
  return {
    auth,
    repo,
    /** The store itself, for a spec that makes a write fail as a busy or failing disk would. */
    database,
    counters,
    liveAuth: new LiveAuth(auth, counters),
    /** A bearer token of a new user with `role` (no password: it never signs in). */
    async tokenFor(username: string, role: Role): Promise<string> {
      repo.insertUser({
        username,
        role,
        passwordHash: '-',
        createdAt: Date.now(),
        disabled: false,
      });
      const issued = await auth.createToken(username, { name: 'test' }, null);
      if (!issued) throw new Error(`no token for ${username}`);
      return issued.token;
    },
    close(): void {
      auth.onModuleDestroy(); // as Nest does before the store closes: noted token uses written
      database.onApplicationShutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
