import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../store/database';
import { AUTH_MIGRATIONS } from './auth.migrations';
import { UsersRepository } from './users.repository';

// Real: the SQLite store in a temp dir, migrated as a gateway upgrading a DATA_DIR would.
describe('UsersRepository', () => {
  let dir: string;
  let database: Database;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-users-repo-'));
    database = new Database({ DATA_DIR: dir });
  });
  afterEach(() => {
    database.onApplicationShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  const token = (id: string, parentId: string | null = null) => ({
    id,
    username: 'ana',
    kind: 'token' as const,
    name: id,
    groups: null,
    parentId,
    createdAt: 1,
    expiresAt: Date.now() + 60_000,
    revokedAt: null,
  });

  it('keeps the tokens of a store from before token parents valid, without a parent', () => {
    const [first] = AUTH_MIGRATIONS;
    database.migrate([first]);
    database.db
      .prepare(
        "INSERT INTO users (username, role, password_hash, created_at) VALUES ('ana', 'viewer', '-', 1)",
      )
      .run();
    database.db
      .prepare(
        "INSERT INTO tokens (id, username, kind, name, created_at, expires_at) VALUES ('old', 'ana', 'token', 'old', 1, ?)",
      )
      .run(Date.now() + 60_000);

    const repo = new UsersRepository(database);
    expect(repo.findToken('old')).toMatchObject({ id: 'old', parentId: null, revokedAt: null });
    expect(repo.revokeTokenTree('old', 5)).toEqual(['old']);
    expect(repo.findToken('old')?.revokedAt).toBe(5);
  });

  it('revokes a token with every token made from it, transitively, and nothing else', () => {
    const repo = new UsersRepository(database);
    repo.insertUser({
      username: 'ana',
      role: 'viewer',
      passwordHash: '-',
      createdAt: 1,
      disabled: false,
    });
    repo.insertToken(token('a'));
    repo.insertToken(token('b', 'a'));
    repo.insertToken(token('c', 'b'));
    repo.insertToken(token('d', 'a'));
    repo.insertToken(token('e'));
    repo.insertToken(token('f', 'e'));

    expect(repo.revokeTokenTree('b', 7).sort()).toEqual(['b', 'c']);
    expect(repo.revokeTokenTree('a', 8).sort()).toEqual(['a', 'd']); // b and c were revoked already
    expect(repo.findToken('c')?.revokedAt).toBe(7);
    expect(repo.findToken('d')?.revokedAt).toBe(8);
    expect(repo.findToken('e')?.revokedAt).toBeNull();
    expect(repo.findToken('f')?.revokedAt).toBeNull();
    expect(repo.revokeTokenTree('unknown', 9)).toEqual([]);
  });

  it('records a token use once per span, and a sign-in; rows from before read as never', () => {
    const [first, second] = AUTH_MIGRATIONS;
    database.migrate([first, second]);
    database.db
      .prepare(
        "INSERT INTO users (username, role, password_hash, created_at) VALUES ('ana', 'viewer', '-', 1)",
      )
      .run();
    const repo = new UsersRepository(database); // migrates the rest
    repo.insertToken(token('a'));
    expect(repo.findToken('a')?.lastUsedAt).toBeNull();
    expect(repo.findUser('ana')?.lastSignInAt).toBeNull();
    expect(repo.listUsers()).toEqual([
      { username: 'ana', role: 'viewer', createdAt: 1, disabled: false },
    ]);

    repo.insertToken(token('b'));
    repo.recordTokenUses(
      new Map([
        ['a', 100_000],
        ['b', 7],
      ]),
      60_000,
    );
    repo.recordTokenUses(new Map([['a', 159_999]]), 60_000); // within the minute: unchanged
    expect(repo.findToken('a')?.lastUsedAt).toBe(100_000);
    expect(repo.findToken('b')?.lastUsedAt).toBe(7);
    repo.recordTokenUses(new Map([['a', 160_000]]), 60_000);
    expect(repo.findToken('a')?.lastUsedAt).toBe(160_000);

    repo.insertSession({ ...token('s'), kind: 'session', name: null, createdAt: 42 });
    expect(repo.findToken('s')?.kind).toBe('session');
    expect(repo.listUsers()).toEqual([
      { username: 'ana', role: 'viewer', createdAt: 1, disabled: false, lastSignInAt: 42 },
    ]);
  });
});
