import BetterSqlite3 from 'better-sqlite3';
import { statSync } from 'node:fs';
import type { Migration } from '../store/database';
import { rollupOf, upsertRollupSql } from './history-buckets';
import * as port from './history-store';

/*
 * The embedded history store: tables in Pulse's SQLite file (`${DATA_DIR}/pulse.db`), written
 * through a connection of its own (better-sqlite3, WAL), so the final flush at shutdown does not
 * depend on the order Nest closes the shared one in, and migrated through the shared
 * {@link Database} runner. Owns the `history_*` tables; must not read or write other features'.
 */

/** Never edit an applied migration: add one. */
export const HISTORY_SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    id: 'history-001-readings-rollups',
    sql: `
      CREATE TABLE history_series (
        id INTEGER PRIMARY KEY,
        device_id TEXT NOT NULL,
        metric TEXT NOT NULL,
        UNIQUE (device_id, metric)
      );
      CREATE TABLE history_raw (
        series_id INTEGER NOT NULL,
        ts INTEGER NOT NULL,
        value REAL NOT NULL,
        PRIMARY KEY (series_id, ts)
      ) WITHOUT ROWID;
      ${['1m', '1h']
        .map(
          (r) => `CREATE TABLE history_${r} (
        series_id INTEGER NOT NULL,
        bucket INTEGER NOT NULL,
        min REAL NOT NULL, min_ts INTEGER NOT NULL,
        max REAL NOT NULL, max_ts INTEGER NOT NULL,
        sum REAL NOT NULL, count INTEGER NOT NULL,
        PRIMARY KEY (series_id, bucket)
      ) WITHOUT ROWID;`,
        )
        .join('\n')}
    `,
  },
];

/** Series ids cached at most; beyond, the cache starts over (ids are looked up again). */
const MAX_CACHED_SERIES = 100_000;
/** Series whose old rows one prune call looks at, at most. */
const PRUNE_SERIES_PER_PASS = 200;

const upsertRollup = (table: string) =>
  upsertRollupSql(table, 'VALUES (?, ?, ?, ?, ?, ?, ?, ?)', 'min', 'max');

/** Delete at most @budget of a series' oldest rows older than @cutoff (SQLite has no DELETE … LIMIT). */
const pruneSeries = (table: string, column: string) => `
  DELETE FROM ${table} WHERE series_id = @id AND ${column} < min(@cutoff, coalesce(
    (SELECT ${column} FROM ${table} WHERE series_id = @id ORDER BY ${column} LIMIT 1 OFFSET @budget), @cutoff))`;

export class SqliteHistoryStore implements port.HistoryStore {
  readonly kind = 'sqlite';
  private db!: BetterSqlite3.Database;
  private readonly seriesIds = new Map<string, number>();
  private statements!: ReturnType<SqliteHistoryStore['prepare']>;
  private pruneCursor = 0;

  /** `file`: the database file; `migrate`: the shared runner (store/database.ts). */
  constructor(
    private readonly file: string,
    private readonly migrate: (migrations: readonly Migration[]) => unknown,
  ) {}

  async open(): Promise<void> {
    this.migrate(HISTORY_SQLITE_MIGRATIONS);
    this.db = new BetterSqlite3(this.file);
    this.db.pragma('journal_mode = WAL');
    // WAL + NORMAL: a commit survives a process crash (SIGKILL); only a power cut may lose
    // the last transactions, never corrupt the file.
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    // 64 MiB of page cache (default 2 MiB): each series appends to its own leaf page, and with
    // thousands of series those pages must stay in memory (measured: ~1.5× the write rate).
    this.db.pragma('cache_size = -65536');
    this.statements = this.prepare();
  }

  private prepare() {
    const db = this.db;
    return {
      insertSeries: db.prepare(
        'INSERT INTO history_series (device_id, metric) VALUES (?, ?) ON CONFLICT DO NOTHING',
      ),
      seriesId: db.prepare('SELECT id FROM history_series WHERE device_id = ? AND metric = ?'),
      insertRaw: db.prepare(
        'INSERT INTO history_raw (series_id, ts, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
      ),
      rollup: {
        '1m': db.prepare(upsertRollup('history_1m')),
        '1h': db.prepare(upsertRollup('history_1h')),
      },
      readRaw: db
        .prepare(
          'SELECT ts, value FROM history_raw WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?',
        )
        .raw(),
      readRollup: {
        '1m': this.rollupReader('history_1m'),
        '1h': this.rollupReader('history_1h'),
      },
      metrics: db
        .prepare('SELECT metric FROM history_series WHERE device_id = ? ORDER BY metric')
        .pluck(),
      seriesAfter: db
        .prepare('SELECT id FROM history_series WHERE id > ? ORDER BY id LIMIT ?')
        .pluck(),
      prune: {
        raw: db.prepare(pruneSeries('history_raw', 'ts')),
        '1m': db.prepare(pruneSeries('history_1m', 'bucket')),
        '1h': db.prepare(pruneSeries('history_1h', 'bucket')),
      },
    };
  }

  private rollupReader(table: string) {
    return this.db
      .prepare(
        `SELECT bucket, min, min_ts, max, max_ts, sum, count FROM ${table}
         WHERE series_id = ? AND bucket >= ? AND bucket < ? ORDER BY bucket`,
      )
      .raw();
  }

  /** One transaction per batch; prepared single-row statements are SQLite's fastest bulk path. */
  async write(batch: port.WriteBatch): Promise<number> {
    const s = this.statements;
    return this.db.transaction(() => {
      const ids: number[] = [];
      const ts: number[] = [];
      const values: number[] = [];
      for (let i = 0; i < batch.ts.length; i++) {
        const id = this.idOf(batch.deviceIds[i], batch.metrics[i], true) as number;
        if (s.insertRaw.run(id, batch.ts[i], batch.values[i]).changes === 0) continue;
        ids.push(id);
        ts.push(batch.ts[i]);
        values.push(batch.values[i]);
      }
      for (const resolution of ['1m', '1h'] as const) {
        const r = rollupOf(ids, ts, values, resolution);
        const upsert = s.rollup[resolution];
        for (let i = 0; i < r.bucket.length; i++)
          upsert.run(
            r.seriesId[i],
            r.bucket[i],
            r.min[i],
            r.minTs[i],
            r.max[i],
            r.maxTs[i],
            r.sum[i],
            r.count[i],
          );
      }
      return ts.length;
    })();
  }

  private idOf(deviceId: string, metric: string, create: boolean): number | undefined {
    const key = `${deviceId}\u0000${metric}`;
    const cached = this.seriesIds.get(key);
    if (cached !== undefined) return cached;
    if (create) this.statements.insertSeries.run(deviceId, metric);
    const row = this.statements.seriesId.get(deviceId, metric) as { id: number } | undefined;
    if (!row) return undefined;
    if (this.seriesIds.size >= MAX_CACHED_SERIES) this.seriesIds.clear();
    this.seriesIds.set(key, row.id);
    return row.id;
  }

  readonly readRaw: port.HistoryStore['readRaw'] = async (deviceId, metric, from, to, limit) => {
    const id = this.idOf(deviceId, metric, false);
    if (id === undefined) return port.emptyRawRows();
    return port.rawRowsOf(this.statements.readRaw.iterate(id, from, to, limit));
  };

  readonly readRollup: port.HistoryStore['readRollup'] = async (res, device, metric, from, to) => {
    const id = this.idOf(device, metric, false);
    if (id === undefined) return port.emptyRollupRows();
    return port.rollupRowsOf(this.statements.readRollup[res].iterate(id, from, to));
  };

  async metricsOf(deviceId: string): Promise<string[]> {
    return this.statements.metrics.all(deviceId) as string[];
  }

  /** Walks the series round-robin, deleting each one's oldest rows first, `budget` rows at most. */
  async prune(cutoffs: port.RetentionCutoffs, budget: number): Promise<number> {
    const s = this.statements;
    let deleted = 0;
    const ids = s.seriesAfter.all(this.pruneCursor, PRUNE_SERIES_PER_PASS) as number[];
    this.pruneCursor = ids.length < PRUNE_SERIES_PER_PASS ? 0 : ids[ids.length - 1];
    for (const id of ids) {
      for (const resolution of ['raw', '1m', '1h'] as const) {
        if (deleted >= budget) return deleted;
        deleted += s.prune[resolution].run({
          id,
          cutoff: cutoffs[resolution],
          budget: budget - deleted,
        }).changes;
      }
    }
    return deleted;
  }

  async size(): Promise<number> {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    return statSync(this.file).size;
  }

  async close(): Promise<void> {
    if (this.db?.open) this.db.close();
  }
}
