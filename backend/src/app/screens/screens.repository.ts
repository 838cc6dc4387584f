import { Injectable } from '@nestjs/common';
import { Database } from '../store/database';
import { SCREENS_MIGRATIONS } from './screens.migrations';

/**
 * Every SQL statement on the `screens` table: the one place it is read or written. Holds no
 * policy (pairing, limits, presence: ScreensService); must not touch another feature's tables.
 */

export interface ScreenRow {
  id: string;
  name: string;
  /** The wall's query string. */
  board: string;
  groups: string[] | null;
  /** The display token's `jti`. */
  tokenId: string;
  createdBy: string;
  createdAt: number;
  expiresAt: number;
  lastSeen: number | null;
}

interface RawScreen {
  id: string;
  name: string;
  board: string;
  groups: string | null;
  token_id: string;
  created_by: string;
  created_at: number;
  expires_at: number;
  last_seen: number | null;
}

const toScreen = (raw: RawScreen): ScreenRow => ({
  id: raw.id,
  name: raw.name,
  board: raw.board,
  groups: raw.groups === null ? null : (JSON.parse(raw.groups) as string[]),
  tokenId: raw.token_id,
  createdBy: raw.created_by,
  createdAt: raw.created_at,
  expiresAt: raw.expires_at,
  lastSeen: raw.last_seen,
});

@Injectable()
export class ScreensRepository {
  constructor(private readonly database: Database) {
    database.migrate(SCREENS_MIGRATIONS);
  }

  private get db() {
    return this.database.db;
  }

  insert(screen: ScreenRow): void {
    this.db
      .prepare(
        'INSERT INTO screens (id, name, board, groups, token_id, created_by, created_at, expires_at, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        screen.id,
        screen.name,
        screen.board,
        screen.groups === null ? null : JSON.stringify(screen.groups),
        screen.tokenId,
        screen.createdBy,
        screen.createdAt,
        screen.expiresAt,
        screen.lastSeen,
      );
  }

  find(id: string): ScreenRow | null {
    const raw = this.db.prepare('SELECT * FROM screens WHERE id = ?').get(id);
    return raw === undefined ? null : toScreen(raw as RawScreen);
  }

  list(): ScreenRow[] {
    const rows = this.db.prepare('SELECT * FROM screens ORDER BY name, id').all() as RawScreen[];
    return rows.map(toScreen);
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM screens').get() as { n: number }).n;
  }

  update(id: string, change: Pick<ScreenRow, 'name' | 'board' | 'groups'>): void {
    this.db
      .prepare('UPDATE screens SET name = ?, board = ?, groups = ? WHERE id = ?')
      .run(
        change.name,
        change.board,
        change.groups === null ? null : JSON.stringify(change.groups),
        id,
      );
  }

  touch(id: string, lastSeen: number): void {
    this.db.prepare('UPDATE screens SET last_seen = ? WHERE id = ?').run(lastSeen, id);
  }

  /** When screens were heard (id → time), in one transaction; a newer stored time is kept. */
  touchMany(seen: ReadonlyMap<string, number>): void {
    if (!this.db.open) return; // a flush timer after the store closed (shutdown): nothing to keep
    const update = this.db.prepare(
      'UPDATE screens SET last_seen = ? WHERE id = ? AND (last_seen IS NULL OR last_seen < ?)',
    );
    this.db.transaction(() => {
      for (const [id, at] of seen) update.run(at, id, at);
    })();
  }

  /** False when there was none. */
  delete(id: string): boolean {
    return this.db.prepare('DELETE FROM screens WHERE id = ?').run(id).changes === 1;
  }

  /** Display tokens past their expiry are useless: their rows go (pair the wall again). */
  pruneExpired(now: number): void {
    this.db.prepare('DELETE FROM screens WHERE expires_at <= ?').run(now);
  }
}
