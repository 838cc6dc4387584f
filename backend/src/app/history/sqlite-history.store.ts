import BetterSqlite3 from 'better-sqlite3';
import { ownerOnlyFile } from '../common/owner-only-file';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { applyMigrations, enableWal, type Migration } from '../store/database';
import { upsertRollupSql } from './history-buckets';
import {
  Aggregate,
  fold,
  foldRows,
  HeldMinutes,
  hourOf,
  minuteOf,
  withAggregate,
} from './held-minutes';
import * as port from './history-store';
import { WalCheckpointer } from './sqlite-checkpointer';

/** The history store's own SQLite file under DATA_DIR. */
export const HISTORY_DATABASE_FILE = 'history.db';

const HISTORY_TABLES = ['history_series', 'history_raw', 'history_1m', 'history_1h'] as const;

/*
 * The embedded history store: tables in a SQLite file of their own (`${DATA_DIR}/history.db`,
 * better-sqlite3, WAL), so its big write transactions never hold the lock that pulse.db's
 * writers on the event loop (registry, alerts, sessions) would wait for; migrated with the
 * shared runner (`applyMigrations`) on its own connection. History written by earlier versions
 * into pulse.db is moved here once, at the first open. Rollups are written once per minute of a series (held-minutes.ts):
 * after a crash, {@link SqliteHistoryStore.open} recomputes each series' newest minute and hour
 * from the raw rows (the only rows a crash can leave out of the rollups). Owns the `history_*`
 * tables; must not read or write other features'.
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
/**
 * Rows per multi-row insert of appended rows: one statement run for 64 rows instead of 64 runs
 * (each run crosses from JavaScript into SQLite and back; measured ~1.3× the insert rate).
 */
const CHUNK_ROWS = 64;
/** WAL pages between automatic checkpoints (64 MiB of 4 KiB pages). */
const WAL_CHECKPOINT_PAGES = 16_384;
/** `size()`'s truncating checkpoint, tried again this often while another checkpoint runs. */
const TRUNCATE_ATTEMPTS = 40;
const TRUNCATE_RETRY_MS = 25;
/** Page cache of the query connection (KiB): bounds what reading long ranges can hold. */
const READ_CACHE_KIB = 4096;
/** Series whose old rows one prune call looks at, at most. */
const PRUNE_SERIES_PER_PASS = 200;

const upsertRollup = (table: string) =>
  upsertRollupSql(table, 'VALUES (?, ?, ?, ?, ?, ?, ?, ?)', 'min', 'max');
const replaceRollup = (table: string) =>
  `INSERT OR REPLACE INTO ${table} (series_id, bucket, min, min_ts, max, max_ts, sum, count)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;
const MINUTE = 60_000;
const HOUR = 3_600_000;

/**
 * Delete at most @budget of a series' oldest rows older than @cutoff (SQLite has no DELETE …
 * LIMIT). The bound's subquery stops at @cutoff too: it reads only rows it will delete, where
 * walking @budget rows of every series on every pass filled the page cache with the whole
 * store (the gateway's memory grew with retention, issue 13).
 */
const pruneSeries = (table: string, column: string) => `
  DELETE FROM ${table} WHERE series_id = @id AND ${column} < min(@cutoff, coalesce(
    (SELECT ${column} FROM ${table} WHERE series_id = @id AND ${column} < @cutoff
     ORDER BY ${column} LIMIT 1 OFFSET @budget), @cutoff))`;

/**
 * An append collided with a stored row: the newest `ts` known for its series was wrong, which
 * the data_version check rules out. Fails the batch (rolled back, retried by the writer after
 * the newest are read again), never a reading lost or counted twice.
 */
const staleNewest = () =>
  new Error('history: an appended reading was already stored (newest of its series was stale)');

export class SqliteHistoryStore implements port.HistoryStore {
  readonly kind = 'sqlite';
  readonly writesInOrder = true;
  private db!: BetterSqlite3.Database;
  /** Read-only connection for queries (its own small page cache). */
  private reader!: BetterSqlite3.Database;
  private readonly seriesIds = new Map<string, number>();
  /**
   * Per series, the newest `ts` it has stored, as far as this connection knows (the only
   * writer): rows above it are appends and go in chunks. Cleared with the held minutes after a
   * failed write; bounded like the series ids.
   */
  private readonly newestTs = new Map<number, number>();
  /** `PRAGMA data_version` at this connection's last write: it moves when another one commits. */
  private dataVersion = -1;
  /** Parameters of one chunk insert, reused. */
  private readonly chunk: number[] = new Array(3 * CHUNK_ROWS).fill(0);
  private statements!: ReturnType<SqliteHistoryStore['prepare']>;
  private pruneCursor = 0;
  private readonly held = new HeldMinutes();
  /** A write failed after the held minutes changed: rebuild them from the raw rows first. */
  private needsRepair = false;

  /** Readings moved from the legacy file at the last open (0 when there was nothing to move). */
  legacyMoved = 0;
  /** Copies the WAL into the file on its own thread (decision 0040); null when not started. */
  private checkpointer: WalCheckpointer | null = null;

  /**
   * `file`: the history database; `legacyFile`: pulse.db, whose `history_*` tables (from versions
   * that kept history there) are moved into `file` at open. `checkpointer: false` leaves every
   * checkpoint to the writer's automatic one (the behaviour before decision 0040).
   */
  constructor(
    private readonly file: string,
    private readonly options: { legacyFile?: string; checkpointer?: boolean } = {},
  ) {}

  async open(): Promise<void> {
    // Already open (the writer opens a store its owner opened first): one set of connections
    // and one checkpointer, not two.
    if (this.db?.open) return;
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    ownerOnlyFile(this.file);
    this.db = new BetterSqlite3(this.file);
    this.db.pragma('busy_timeout = 5000'); // first: opening waits for another process's locks
    enableWal(this.db);
    // WAL + NORMAL: a commit survives a process crash (SIGKILL); only a power cut may lose
    // the last transactions, never corrupt the file.
    this.db.pragma('synchronous = NORMAL');
    // 64 MiB of page cache (default 2 MiB): each series appends to its own leaf page, and with
    // thousands of series those pages must stay in memory (measured: ~1.5× the write rate).
    this.db.pragma('cache_size = -65536');
    // Statement journals in memory: a multi-row insert may abort half-way, so SQLite copies
    // every page it changes to a statement journal first, by default a temporary file (a
    // write(2) per page; 15 % of the writer's CPU at 10,000 devices, decision 0044). At most
    // one statement's pages (a 64-row chunk, or a minute's rollup row) are held.
    this.db.pragma('temp_store = MEMORY');
    // Checkpoint every 64 MiB of WAL rather than SQLite's 4 MiB: a batch rewrites a leaf page
    // per series, and a page rewritten by several batches between two checkpoints is copied into
    // the file once (measured: ~1.2× the write rate with 4,000 series). The WAL file is cut back
    // to that size when it starts over after a checkpoint (journal_size_limit). Since decision
    // 0040 the checkpointer thread copies the WAL every 500 ms and this one is the backstop: it
    // finds little left.
    this.db.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
    this.db.pragma(`journal_size_limit = ${WAL_CHECKPOINT_PAGES * 4096}`);
    applyMigrations(this.db, HISTORY_SQLITE_MIGRATIONS);
    if (this.options.legacyFile) this.legacyMoved = this.moveLegacy(this.options.legacyFile);
    // Queries on a connection of their own with a small cache: a range read passes each of its
    // pages once, so caching them only made memory grow with the ranges read (with retention).
    // WAL: it sees every committed write; the writer's cache keeps the pages being appended to.
    this.reader = new BetterSqlite3(this.file, { readonly: true });
    this.reader.pragma('busy_timeout = 5000');
    this.reader.pragma(`cache_size = -${READ_CACHE_KIB}`);
    this.statements = this.prepare();
    this.db.transaction(() => this.repair())();
    if (this.options.checkpointer !== false) this.checkpointer = new WalCheckpointer(this.file);
  }

  /**
   * Recompute, for every series, its newest minute from the raw rows and its hour from the
   * minute rows: the rollups a crash (or a failed transaction) may have left without the
   * minute that was held in memory. Exact and idempotent; a few index reads per series.
   */
  private repair(): void {
    const s = this.statements;
    for (const id of s.allSeries.all() as number[]) {
      const newest = s.newest.get(id) as number | undefined;
      if (newest === undefined) continue;
      const minute = minuteOf(newest);
      this.held.seed(id, minute);
      let agg: Aggregate | null = null;
      for (const [ts, value] of s.write.raw.iterate(id, minute, minute + MINUTE, 1e9) as Iterable<
        [number, number]
      >) {
        const one = { min: value, minTs: ts, max: value, maxTs: ts, sum: value, count: 1 };
        agg = agg ? fold(agg, one) : { seriesId: id, bucket: minute, ...one };
      }
      if (agg) this.put(s.replace['1m'], agg);
      const hour = hourOf(newest);
      const rows = port.rollupRowsOf(s.write['1m'].iterate(id, hour, hour + HOUR));
      const hourly = foldRows(id, hour, rows);
      if (hourly) this.put(s.replace['1h'], hourly);
    }
  }

  /**
   * History kept in pulse.db by earlier versions: copied here (ids and all) and dropped there.
   * Idempotent: WAL makes the copy and the drop atomic per file, not together, so a crash between
   * them copies again at the next open and the copies are ignored (same keys).
   */
  private moveLegacy(legacyFile: string): number {
    if (!existsSync(legacyFile)) return 0;
    this.db.prepare('ATTACH DATABASE ? AS legacy').run(legacyFile);
    try {
      const found = this.db
        .prepare(
          "SELECT count(*) FROM legacy.sqlite_master WHERE type = 'table' AND name = 'history_raw'",
        )
        .pluck()
        .get() as number;
      if (found === 0) return 0;
      return this.db.transaction(() => {
        let moved = 0;
        for (const table of HISTORY_TABLES) {
          const copied = this.db
            .prepare(`INSERT OR IGNORE INTO main.${table} SELECT * FROM legacy.${table}`)
            .run().changes;
          if (table === 'history_raw') moved = copied;
        }
        for (const table of [...HISTORY_TABLES].reverse())
          this.db.exec(`DROP TABLE legacy.${table}`);
        return moved;
      })();
    } finally {
      this.db.exec('DETACH DATABASE legacy');
    }
  }

  private put(statement: BetterSqlite3.Statement, a: Aggregate): void {
    statement.run(a.seriesId, a.bucket, a.min, a.minTs, a.max, a.maxTs, a.sum, a.count);
  }

  /** A minute leaves memory: its row, and its share of its hour. */
  private writeMinute(a: Aggregate): void {
    this.put(this.statements.rollup['1m'], a);
    this.put(this.statements.rollup['1h'], { ...a, bucket: hourOf(a.bucket) });
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
      /** Appends only: fewer changes than rows means a stale newest (the batch fails). */
      insertChunk: db.prepare(
        `INSERT INTO history_raw (series_id, ts, value) VALUES ${Array(CHUNK_ROWS).fill('(?, ?, ?)').join(', ')}
         ON CONFLICT DO NOTHING`,
      ),
      rollup: {
        '1m': db.prepare(upsertRollup('history_1m')),
        '1h': db.prepare(upsertRollup('history_1h')),
      },
      replace: {
        '1m': db.prepare(replaceRollup('history_1m')),
        '1h': db.prepare(replaceRollup('history_1h')),
      },
      dataVersion: db.prepare('PRAGMA data_version').pluck(),
      allSeries: db.prepare('SELECT id FROM history_series ORDER BY id').pluck(),
      newest: db
        .prepare('SELECT ts FROM history_raw WHERE series_id = ? ORDER BY ts DESC LIMIT 1')
        .pluck(),
      /** Range reads on the writer (inside its transactions: repair). */
      write: this.rangeReaders(db),
      /** Range reads of queries, on the read connection. */
      query: this.rangeReaders(this.reader),
      metrics: this.reader
        .prepare('SELECT metric FROM history_series WHERE device_id = ? ORDER BY metric')
        .pluck(),
      /**
       * A device's series with the newest raw row of each: the series by the (device, metric)
       * index, then max(ts) and its row by the primary key, a few index seeks per series.
       */
      latest: this.reader
        .prepare(
          `SELECT s.metric, r.ts, r.value FROM history_series s JOIN history_raw r
           ON r.series_id = s.id AND r.ts = (SELECT max(ts) FROM history_raw WHERE series_id = s.id)
           WHERE s.device_id = ?`,
        )
        .raw(),
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

  /** A series' raw rows and rollup rows over a range, prepared on one connection. */
  private rangeReaders(db: BetterSqlite3.Database) {
    const rollup = (table: string) =>
      db
        .prepare(
          `SELECT bucket, min, min_ts, max, max_ts, sum, count FROM ${table}
           WHERE series_id = ? AND bucket >= ? AND bucket < ? ORDER BY bucket`,
        )
        .raw();
    return {
      raw: db
        .prepare(
          'SELECT ts, value FROM history_raw WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?',
        )
        .raw(),
      '1m': rollup('history_1m'),
      '1h': rollup('history_1h'),
    };
  }

  /**
   * One transaction per batch, its rows in key order (series, then time): each series' rows go
   * into its leaf page one after the other instead of the batch hopping between thousands of
   * pages. Rows newer than everything their series has stored (nearly all of them: series
   * append) go in {@link CHUNK_ROWS} to a statement; the others (late, out of order, a retry's
   * duplicates) one by one, a duplicate `(series, ts)` keeping the row stored first. Rollup rows
   * only for the minutes that leave memory (held-minutes.ts).
   */
  async write(batch: port.WriteBatch): Promise<number> {
    try {
      // IMMEDIATE: the write lock first, so what the checks below read stays true to the commit.
      return this.db.transaction(() => this.insert(batch)).immediate();
    } catch (error) {
      // Rolled back, but the held minutes counted the batch (and the newest per series moved):
      // rebuild them before the retry.
      this.needsRepair = true;
      throw error;
    }
  }

  /** {@link write}'s transaction. */
  private insert(batch: port.WriteBatch): number {
    const s = this.statements;
    if (this.needsRepair) {
      this.held.drain();
      this.repair();
      this.newestTs.clear();
      // Ids of series the rolled-back transaction created are gone with it (a new series
      // would get the same id): look every series up again.
      this.seriesIds.clear();
      this.needsRepair = false;
    }
    // Another connection committed to the file since this one's last transaction (a process
    // overlapping this one at a restart): what this one knew of each series' newest is stale.
    const version = s.dataVersion.get() as number;
    if (version !== this.dataVersion) this.newestTs.clear();
    this.dataVersion = version;
    const n = batch.ts.length;
    const ids = new Float64Array(n);
    for (let i = 0; i < n; i++)
      ids[i] = this.idOf(batch.deviceIds[i], batch.metrics[i], true) as number;
    // Arrival order among equal keys, so the first of two duplicates is the one kept.
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => ids[a] - ids[b] || batch.ts[a] - batch.ts[b] || a - b);
    const closed = new Map<string, Aggregate>();
    const chunk = this.chunk;
    let inChunk = 0;
    let inserted = 0;
    let lastId = NaN;
    let newest = -Infinity;
    let lastTs = NaN;
    for (let k = 0; k < n; k++) {
      const i = order[k];
      const id = ids[i];
      const ts = batch.ts[i];
      const value = batch.values[i];
      if (id !== lastId) {
        if (k > 0) this.newestTs.set(lastId, newest);
        lastId = id;
        newest = this.newestOf(id);
      } else if (ts === lastTs) continue; // twice in the batch: the first is kept
      lastTs = ts;
      if (ts > newest) {
        // An append: nothing stored or in this batch can collide.
        newest = ts;
        chunk[3 * inChunk] = id;
        chunk[3 * inChunk + 1] = ts;
        chunk[3 * inChunk + 2] = value;
        if (++inChunk === CHUNK_ROWS) {
          if (s.insertChunk.run(chunk).changes !== CHUNK_ROWS) throw staleNewest();
          inChunk = 0;
        }
      } else if (s.insertRaw.run(id, ts, value).changes === 0) continue;
      inserted++;
      const out = this.held.add(id, ts, value);
      if (!out) continue;
      const key = `${id}:${out.bucket}`;
      const same = closed.get(key);
      if (same) fold(same, out);
      else closed.set(key, out);
    }
    if (n > 0) this.newestTs.set(lastId, newest);
    for (let j = 0; j < inChunk; j++)
      if (s.insertRaw.run(chunk[3 * j], chunk[3 * j + 1], chunk[3 * j + 2]).changes === 0)
        throw staleNewest();
    for (const a of closed.values()) this.writeMinute(a);
    return inserted;
  }

  /** The newest `ts` stored for a series (-Infinity when it has none). */
  private newestOf(id: number): number {
    const known = this.newestTs.get(id);
    if (known !== undefined) return known;
    const stored = this.statements.newest.get(id) as number | undefined;
    if (this.newestTs.size >= MAX_CACHED_SERIES) this.newestTs.clear();
    return stored ?? -Infinity;
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
    return port.rawRowsOf(this.statements.query.raw.iterate(id, from, to, limit));
  };

  readonly readRollup: port.HistoryStore['readRollup'] = async (res, device, metric, from, to) => {
    const id = this.idOf(device, metric, false);
    if (id === undefined) return port.emptyRollupRows();
    const rows = port.rollupRowsOf(this.statements.query[res].iterate(id, from, to));
    // The minute held in memory belongs to the answer too (to its minute, or to its hour).
    const held = this.held.of(id);
    if (!held || this.needsRepair) return rows;
    return withAggregate(
      rows,
      res === '1m' ? held : { ...held, bucket: hourOf(held.bucket) },
      from,
      to,
    );
  };

  async metricsOf(deviceId: string): Promise<string[]> {
    return this.statements.metrics.all(deviceId) as string[];
  }

  async latestOf(deviceIds: readonly string[]): Promise<port.LatestRows> {
    const out = port.emptyLatestRows();
    const latest = this.statements.latest;
    for (let i = 0; i < deviceIds.length; i++)
      for (const [metric, ts, value] of latest.iterate(deviceIds[i]) as Iterable<
        [string, number, number]
      >) {
        out.device.push(i);
        out.metrics.push(metric);
        out.ts.push(ts);
        out.values.push(value);
      }
    return out;
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
    // One checkpoint runs at a time and another finds it busy (it does not wait): when the
    // checkpointer thread is mid-pass, try again so the WAL is in the file before it is measured.
    for (let attempt = 0; attempt < TRUNCATE_ATTEMPTS; attempt++) {
      const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      if (!result?.busy) break;
      await new Promise((resolve) => setTimeout(resolve, TRUNCATE_RETRY_MS));
    }
    return statSync(this.file).size;
  }

  async close(): Promise<void> {
    await this.checkpointer?.stop();
    this.checkpointer = null;
    if (!this.db?.open) return;
    if (this.reader?.open) this.reader.close();
    // The held minutes are written now (at the next open, repair would find them anyway).
    if (!this.needsRepair)
      this.db.transaction(() => this.held.drain().forEach((a) => this.writeMinute(a)))();
    this.db.close();
  }
}
