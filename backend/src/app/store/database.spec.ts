import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteHistoryStore } from '../history/sqlite-history.store';
import { Database } from './database';

describe('Database', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'pulse-db-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates DATA_DIR and opens pulse.db with WAL and foreign keys', () => {
    const sut = new Database({ DATA_DIR: join(dir, 'nested', 'data') });
    expect(sut.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(sut.db.pragma('foreign_keys', { simple: true })).toBe(1);
    sut.onApplicationShutdown();
  });

  it('keeps its files readable by this user only, in a DATA_DIR that is not', async () => {
    const data = join(dir, 'data');
    mkdirSync(data, { mode: 0o755 });
    chmodSync(data, 0o755); // made by hand or a volume: not Pulse's 0700
    const mode = (file: string) => statSync(join(data, file)).mode & 0o777;
    const sut = new Database({ DATA_DIR: data });
    sut.migrate([{ id: 'a-001', sql: 'CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1)' }]);
    expect([mode('pulse.db'), mode('pulse.db-wal'), mode('pulse.db-shm')]).toEqual([
      0o600, 0o600, 0o600,
    ]);
    sut.onApplicationShutdown();
    // One an earlier version left readable by all is tightened when opened.
    chmodSync(join(data, 'pulse.db'), 0o644);
    new Database({ DATA_DIR: data }).onApplicationShutdown();
    expect(mode('pulse.db')).toBe(0o600);
    // The history database too (written from its worker).
    writeFileSync(join(data, 'history.db'), '', { mode: 0o644 });
    const history = new SqliteHistoryStore(join(data, 'history.db'));
    await history.open();
    expect(mode('history.db')).toBe(0o600);
    await history.close();
  });

  it('applies each migration once, across restarts, and records it', () => {
    const first = [{ id: 'a-001', sql: 'CREATE TABLE a (x INTEGER)' }];
    const sut = new Database({ DATA_DIR: dir });
    expect(sut.migrate(first)).toEqual(['a-001']);
    expect(sut.migrate(first)).toEqual([]);
    sut.onApplicationShutdown();

    const reopened = new Database({ DATA_DIR: dir });
    const later = [...first, { id: 'a-002', sql: 'ALTER TABLE a ADD COLUMN y TEXT' }];
    expect(reopened.migrate(later)).toEqual(['a-002']);
    const ids = reopened.db.prepare('SELECT id FROM schema_migrations ORDER BY id').all();
    expect(ids).toEqual([{ id: 'a-001' }, { id: 'a-002' }]);
    reopened.onApplicationShutdown();
  });

  it('rolls a failing migration back whole and applies nothing after it', () => {
    const sut = new Database({ DATA_DIR: dir });
    const broken = [
      { id: 'b-001', sql: 'CREATE TABLE b (x INTEGER); INSERT INTO nope VALUES (1)' },
      { id: 'b-002', sql: 'CREATE TABLE c (x INTEGER)' },
    ];
    expect(() => sut.migrate(broken)).toThrow(/no such table: nope/);
    const tables = sut.db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('b', 'c')")
      .all();
    expect(tables).toEqual([]);
    sut.onApplicationShutdown();
  });
});
