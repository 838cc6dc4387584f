import BetterSqlite3 from 'better-sqlite3';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database, DATABASE_FILE } from '../store/database';
import type { WriteBatch } from './history-store';
import {
  HISTORY_DATABASE_FILE,
  HISTORY_SQLITE_MIGRATIONS,
  SqliteHistoryStore,
} from './sqlite-history.store';

// Real SQLite files: history kept in pulse.db by earlier versions moves to history.db once.
describe('SqliteHistoryStore: history from pulse.db', () => {
  let dir: string;
  const t0 = Date.UTC(2026, 11, 1, 10);
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'pulse-history-legacy-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** pulse.db as the previous version left it: the history tables with two series in them. */
  function legacyPulseDb(): void {
    const database = new Database({ DATA_DIR: dir });
    database.migrate(HISTORY_SQLITE_MIGRATIONS);
    database.db.exec(`
      INSERT INTO history_series (id, device_id, metric) VALUES (1, 'd1', 'a'), (2, 'd2', 'b');
      INSERT INTO history_raw (series_id, ts, value) VALUES
        (1, ${t0}, 1), (1, ${t0 + 1000}, 2), (2, ${t0}, 7);
      INSERT INTO history_1m VALUES (1, ${t0}, 1, ${t0}, 2, ${t0 + 1000}, 3, 2);
      INSERT INTO history_1h VALUES (1, ${t0}, 1, ${t0}, 2, ${t0 + 1000}, 3, 2);
      CREATE TABLE registry_like (x INTEGER);
    `);
    database.onApplicationShutdown();
  }

  const open = async () => {
    const store = new SqliteHistoryStore(join(dir, HISTORY_DATABASE_FILE), {
      legacyFile: join(dir, DATABASE_FILE),
    });
    await store.open();
    return store;
  };

  it('moves it at the first open, drops it there, and keeps everything else of pulse.db', async () => {
    legacyPulseDb();
    const store = await open();
    expect(store.legacyMoved).toBe(3);
    expect(await store.readRaw('d1', 'a', t0, t0 + 2000, 10)).toEqual({
      ts: [t0, t0 + 1000],
      values: [1, 2],
    });
    expect(await store.readRaw('d2', 'b', t0, t0 + 2000, 10)).toEqual({ ts: [t0], values: [7] });
    expect((await store.readRollup('1m', 'd1', 'a', t0, t0 + 60_000)).count).toEqual([2]);
    // New readings go on beside the moved ones, in the same series.
    expect(
      await store.write({ deviceIds: ['d1'], metrics: ['a'], ts: [t0 + 2000], values: [3] }),
    ).toBe(1);
    await store.close();

    const database = new Database({ DATA_DIR: dir });
    const tables = database.db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .pluck()
      .all();
    expect(tables).toEqual(['registry_like', 'schema_migrations']);
    database.onApplicationShutdown();

    const again = await open();
    expect(again.legacyMoved).toBe(0);
    expect((await again.readRaw('d1', 'a', t0, t0 + 5000, 10)).values).toEqual([1, 2, 3]);
    await again.close();
  });

  it('opens without pulse.db, or with a pulse.db that never held history', async () => {
    const fresh = await open();
    expect(fresh.legacyMoved).toBe(0);
    await fresh.close();
    new Database({ DATA_DIR: dir }).onApplicationShutdown();
    const next = await open();
    expect(next.legacyMoved).toBe(0);
    await next.close();
  });
});

// Appends go in chunks on what the connection knows of each series' newest row; another
// connection on the same file (a restart overlapping the old process) can make that stale.
describe('SqliteHistoryStore: two connections appending to one series', () => {
  let dir: string;
  const t0 = Date.UTC(2026, 11, 1, 12);
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'pulse-history-two-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const seconds = (from: number, to: number, value: (k: number) => number) => {
    const ks = Array.from({ length: to - from }, (_, i) => from + i);
    return {
      deviceIds: ks.map(() => 'd'),
      metrics: ks.map(() => 'm'),
      ts: ks.map((k) => t0 + k * 1000),
      values: ks.map(value),
    };
  };

  it('keeps every reading once when the other connection wrote newer rows in between', async () => {
    const file = join(dir, HISTORY_DATABASE_FILE);
    const a = new SqliteHistoryStore(file);
    await a.open();
    const b = new SqliteHistoryStore(file);
    await b.open();
    expect(await a.write(seconds(0, 100, (k) => k))).toBe(100);
    // b writes 100–299; a, still knowing 99 as the newest, writes 200–399 (200–299 taken).
    expect(await b.write(seconds(100, 300, (k) => k))).toBe(200);
    expect(await a.write(seconds(200, 400, () => -1))).toBe(100);
    const raw = await a.readRaw('d', 'm', t0, t0 + 400_000, 1000);
    expect(raw.ts).toEqual(Array.from({ length: 400 }, (_, k) => t0 + k * 1000));
    expect(raw.values).toEqual(Array.from({ length: 400 }, (_, k) => (k < 300 ? k : -1)));
    await b.close();
    await a.close();
    // The rollups count each reading once (b's held minutes were written at its close).
    const again = new SqliteHistoryStore(file);
    await again.open();
    const minutes = await again.readRollup('1m', 'd', 'm', t0, t0 + 400_000);
    expect(minutes.count.reduce((x, y) => x + y, 0)).toBe(400);
    await again.close();
  });
});

// Real SQLite files and a real thread: what a commit appends to history.db-wal reaches
// history.db within a second or so, without waiting for the writer's own checkpoint (every
// 64 MiB of WAL, which stalled that commit by 120–140 ms; decision 0040).
describe('SqliteHistoryStore: checkpoints off the writer', () => {
  let dir: string;
  const t0 = Date.UTC(2026, 11, 1, 10);
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'pulse-history-checkpoint-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** 400 series × 25 readings: a few MB of pages in the WAL, far below the writer's 64 MiB. */
  function batch(): WriteBatch {
    const out: WriteBatch = { deviceIds: [], metrics: [], ts: [], values: [] };
    for (let d = 0; d < 100; d++)
      for (const metric of ['a', 'b', 'c', 'd'])
        for (let i = 0; i < 25; i++) {
          out.deviceIds.push(`device-${d}`);
          out.metrics.push(metric);
          out.ts.push(t0 + i * 1000);
          out.values.push(d + i);
        }
    return out;
  }

  /**
   * Rows of history_raw in a copy of history.db alone, without its WAL: what has been
   * checkpointed into the file (0 when not even the schema has). A copy taken while a pass
   * writes the file may be torn: that reads as "not yet" (-1), and the caller looks again.
   */
  function rowsInFileAlone(): number {
    const copy = join(dir, 'copy.db');
    copyFileSync(join(dir, HISTORY_DATABASE_FILE), copy);
    let db: BetterSqlite3.Database | null = null;
    try {
      db = new BetterSqlite3(copy, { readonly: true });
      const table = db
        .prepare("SELECT count(*) FROM sqlite_master WHERE name = 'history_raw'")
        .pluck()
        .get();
      return table ? (db.prepare('SELECT count(*) FROM history_raw').pluck().get() as number) : 0;
    } catch {
      return -1;
    } finally {
      db?.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(copy + suffix, { force: true });
    }
  }

  async function rowsInFileAfter(store: SqliteHistoryStore, waitMs: number): Promise<number> {
    expect(await store.write(batch())).toBe(10_000);
    const end = Date.now() + waitMs;
    let rows = rowsInFileAlone();
    while (rows < 10_000 && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      rows = rowsInFileAlone();
    }
    return rows;
  }

  it('copies committed pages into the file on its own thread', async () => {
    const store = new SqliteHistoryStore(join(dir, HISTORY_DATABASE_FILE));
    await store.open();
    expect(await rowsInFileAfter(store, 5_000)).toBe(10_000);
    // The writer and readers go on beside it.
    expect((await store.readRaw('device-7', 'c', t0, t0 + 60_000, 100)).values).toHaveLength(25);
    await store.close();
  });

  it('without it, the pages stay in the WAL until the writer checkpoints (the behaviour before)', async () => {
    const store = new SqliteHistoryStore(join(dir, HISTORY_DATABASE_FILE), {
      checkpointer: false,
    });
    await store.open();
    expect(await rowsInFileAfter(store, 1_500)).toBe(0);
    expect(rowsInFileAlone()).toBe(0);
    await store.close();
  });

  it('stops with the store: the file closes cleanly and opens again with every reading', async () => {
    const file = join(dir, HISTORY_DATABASE_FILE);
    const store = new SqliteHistoryStore(file);
    await store.open();
    await store.open(); // opened twice (the writer opens a store its owner opened): one thread
    await store.write(batch());
    await store.close();
    // The last connection to close removes the WAL: none is left open (no thread outlives it).
    expect(existsSync(`${file}-wal`)).toBe(false);
    const again = new SqliteHistoryStore(join(dir, HISTORY_DATABASE_FILE));
    await again.open();
    expect((await again.readRaw('device-99', 'd', t0, t0 + 60_000, 100)).values).toHaveLength(25);
    await again.close();
  });
});
