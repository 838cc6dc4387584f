import { Injectable } from '@nestjs/common';
import type { Role, UserInfo } from '@pulse/protocol';
import { Database } from '../store/database';
import { AUTH_MIGRATIONS } from './auth.migrations';

/** The columns an insert of a user writes, in the order `insert` binds them. */
const USER_COLUMNS = 'username, role, password_hash, created_at, disabled';

/**
 * Every SQL statement on the auth tables (users, tokens): the one place they are read or
 * written. Holds no policy (who may do what, limits, hashing: AuthService and UsersService);
 * must not touch another feature's tables.
 */

export interface UserRow {
  username: string;
  role: Role;
  passwordHash: string;
  createdAt: number;
  disabled: boolean;
  /** Their last sign-in (a password checked), ms; null: never (or before it was recorded). */
  lastSignInAt?: number | null;
}

export type TokenKind = 'session' | 'token';

export interface TokenRow {
  id: string;
  username: string;
  kind: TokenKind;
  name: string | null;
  groups: string[] | null;
  /**
   * The bearer token this one was asked for with (revoked with it); null when asked for with a
   * session, and for rows from before parents were recorded.
   */
  parentId: string | null;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
  /** When it was last presented, to AUTH_LIMITS.lastUsedResolutionMs; null: never. */
  lastUsedAt?: number | null;
}

interface RawUser {
  username: string;
  role: Role;
  password_hash: string;
  created_at: number;
  disabled: number;
  last_sign_in_at: number | null;
}

interface RawToken {
  id: string;
  username: string;
  kind: TokenKind;
  name: string | null;
  groups: string | null;
  parent_id: string | null;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

const toUser = (raw: RawUser): UserRow => ({
  username: raw.username,
  role: raw.role,
  passwordHash: raw.password_hash,
  createdAt: raw.created_at,
  disabled: raw.disabled === 1,
  lastSignInAt: raw.last_sign_in_at,
});

const toToken = (raw: RawToken): TokenRow => ({
  id: raw.id,
  username: raw.username,
  kind: raw.kind,
  name: raw.name,
  groups: raw.groups === null ? null : (JSON.parse(raw.groups) as string[]),
  parentId: raw.parent_id,
  createdAt: raw.created_at,
  expiresAt: raw.expires_at,
  revokedAt: raw.revoked_at,
  lastUsedAt: raw.last_used_at,
});

@Injectable()
export class UsersRepository {
  constructor(private readonly database: Database) {
    database.migrate(AUTH_MIGRATIONS);
  }

  private get db() {
    return this.database.db;
  }

  countUsers(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM users').get() as { n: number }).n;
  }

  hasAdmin(): boolean {
    return this.db.prepare("SELECT 1 FROM users WHERE role = 'admin' LIMIT 1").get() !== undefined;
  }

  findUser(username: string): UserRow | null {
    const raw = this.db.prepare('SELECT * FROM users WHERE username = ?').get(username);
    return raw === undefined ? null : toUser(raw as RawUser);
  }

  listUsers(): UserInfo[] {
    const rows = this.db.prepare('SELECT * FROM users ORDER BY username').all() as RawUser[];
    return rows.map((raw) => {
      const { username, role, createdAt, disabled, lastSignInAt } = toUser(raw);
      return {
        username,
        role,
        createdAt,
        disabled,
        ...(lastSignInAt == null ? {} : { lastSignInAt }),
      };
    });
  }

  /**
   * A browser session's row and its user's sign-in time, in one transaction: a store that fails
   * the second write (busy past its timeout, a failing disk) leaves no session that nobody holds.
   */
  insertSession(session: TokenRow): void {
    this.db.transaction(() => {
      this.insertToken(session);
      this.db
        .prepare('UPDATE users SET last_sign_in_at = ? WHERE username = ?')
        .run(session.createdAt, session.username);
    })();
  }

  /**
   * Records when tokens were presented (id → time) in one transaction; a row written within
   * `resolutionMs` before `at` is left as it is (another gateway on the same file wrote it).
   */
  recordTokenUses(uses: ReadonlyMap<string, number>, resolutionMs: number): void {
    if (!this.db.open) return; // a flush timer after the store closed (shutdown): nothing to keep
    const update = this.db.prepare(
      'UPDATE tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at <= ?)',
    );
    this.db.transaction(() => {
      for (const [id, at] of uses) update.run(at, id, at - resolutionMs);
    })();
  }

  /** False when the username is taken. */
  insertUser(user: UserRow): boolean {
    return this.insert(
      `INSERT OR IGNORE INTO users (${USER_COLUMNS}) VALUES (?, ?, ?, ?, ?)`,
      user,
    );
  }

  /**
   * Inserts `user` only while the table is empty, in one statement (SQLite runs it atomically,
   * whichever gateway or request asks): the first-admin setup's "no users yet" check and its
   * insert cannot be split by another setup. False when any user exists already.
   */
  insertFirstUser(user: UserRow): boolean {
    return this.insert(
      `INSERT INTO users (${USER_COLUMNS}) SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM users)`,
      user,
    );
  }

  /** Runs an insert of `user`'s columns (USER_COLUMNS' order); whether a row was added. */
  private insert(sql: string, user: UserRow): boolean {
    const result = this.db
      .prepare(sql)
      .run(user.username, user.role, user.passwordHash, user.createdAt, user.disabled ? 1 : 0);
    return result.changes === 1;
  }

  updateUser(
    username: string,
    change: { role?: Role; passwordHash?: string; disabled?: boolean },
  ): void {
    const current = this.findUser(username);
    if (!current) return;
    this.db
      .prepare('UPDATE users SET role = ?, password_hash = ?, disabled = ? WHERE username = ?')
      .run(
        change.role ?? current.role,
        change.passwordHash ?? current.passwordHash,
        (change.disabled ?? current.disabled) ? 1 : 0,
        username,
      );
  }

  /** Its tokens go with it (foreign key, ON DELETE CASCADE). False when there was none. */
  deleteUser(username: string): boolean {
    return this.db.prepare('DELETE FROM users WHERE username = ?').run(username).changes === 1;
  }

  /** Admins that can still sign in (refuse to demote, disable or delete the last one). */
  countActiveAdmins(): number {
    return (
      this.db
        .prepare("SELECT COUNT(*) AS n FROM users WHERE role = 'admin' AND disabled = 0")
        .get() as { n: number }
    ).n;
  }

  insertToken(token: TokenRow): void {
    this.db
      .prepare(
        'INSERT INTO tokens (id, username, kind, name, groups, parent_id, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)',
      )
      .run(
        token.id,
        token.username,
        token.kind,
        token.name,
        token.groups === null ? null : JSON.stringify(token.groups),
        token.parentId,
        token.createdAt,
        token.expiresAt,
      );
  }

  findToken(id: string): TokenRow | null {
    const raw = this.db.prepare('SELECT * FROM tokens WHERE id = ?').get(id);
    return raw === undefined ? null : toToken(raw as RawToken);
  }

  /** Unexpired, unrevoked tokens of one kind a user holds. */
  countLiveTokens(username: string, kind: TokenKind, now: number): number {
    return (
      this.db
        .prepare(
          'SELECT COUNT(*) AS n FROM tokens WHERE username = ? AND kind = ? AND revoked_at IS NULL AND expires_at > ?',
        )
        .get(username, kind, now) as { n: number }
    ).n;
  }

  /** Unexpired, unrevoked tokens of one kind a user holds, newest first. */
  listLiveTokens(username: string, kind: TokenKind, now: number): TokenRow[] {
    const rows = this.db
      .prepare(
        'SELECT * FROM tokens WHERE username = ? AND kind = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY created_at DESC, rowid DESC',
      )
      .all(username, kind, now) as RawToken[];
    return rows.map(toToken);
  }

  /**
   * Revokes a session or token and every token made with it, and theirs (`parent_id`, one
   * statement); the ids it revoked now (not those revoked before), for cutting their sockets.
   */
  revokeTokenTree(id: string, now: number): string[] {
    const rows = this.db
      .prepare(
        `WITH RECURSIVE tree (id) AS (
           SELECT ? UNION SELECT tokens.id FROM tokens JOIN tree ON tokens.parent_id = tree.id
         )
         UPDATE tokens SET revoked_at = ? WHERE id IN (SELECT id FROM tree) AND revoked_at IS NULL
         RETURNING id`,
      )
      .all(id, now) as { id: string }[];
    return rows.map((row) => row.id);
  }

  /**
   * Revokes every live (unexpired, unrevoked) row of a user but `exceptId` (if given); how many
   * it revoked. An expired row is refused by its signature already.
   */
  revokeUserTokens(username: string, now: number, exceptId: string | null = null): number {
    return this.db
      .prepare(
        'UPDATE tokens SET revoked_at = ? WHERE username = ? AND revoked_at IS NULL AND expires_at > ? AND id IS NOT ?',
      )
      .run(now, username, now, exceptId).changes;
  }

  /** Rows past their expiry are useless (the signature check refuses them too): drop them. */
  pruneExpired(now: number): void {
    this.db.prepare('DELETE FROM tokens WHERE expires_at <= ?').run(now);
  }
}
