import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../store/database';
import { HistoryReader } from './history-reader.service';
import type { HistoryJournal } from './history-journal';
import { AHEAD_AT, BATCH_MAX, HistoryWriter, HOLD_READINGS } from './history-writer.service';
import type { HistoryStore, WriteBatch } from './history-store';
import { HistoryService } from './history.service';
import { HISTORY_DATABASE_FILE, SqliteHistoryStore } from './sqlite-history.store';

/**
 * A kill, in this process: the writer's journal files closed and its folder let go (what the
 * kernel does), nothing flushed or removed. A writer still holding it keeps the next one out.
 */
const killed = (writer: HistoryWriter) =>
  (writer as unknown as { journal: HistoryJournal }).journal.abandonAsIfKilled();

// Real SQLite store in a temp dir; the writer's timers are not started (flush by hand).
describe('HistoryWriter and HistoryReader', () => {
  const config = {
    HISTORY_QUEUE_MAX: 10,
    HISTORY_FLUSH_MS: 1000,
    HISTORY_WINDOW_MS: 60_000,
    HISTORY_MAX_POINTS: 100,
    RETENTION_RAW: 7 * 86_400_000,
    RETENTION_1M: 30 * 86_400_000,
    RETENTION_1H: 365 * 86_400_000,
  };
  let dir: string;
  let database: Database;
  let store: SqliteHistoryStore;
  let sut: HistoryWriter;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-writer-'));
    database = new Database({ DATA_DIR: dir });
    store = new SqliteHistoryStore(join(dir, HISTORY_DATABASE_FILE));
    await store.open();
    sut = new HistoryWriter({ ...config, DATA_DIR: dir }, store);
  });
  afterEach(async () => {
    await store.close();
    database.onApplicationShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  const reading = (ts: number, a: number) => ({ deviceId: 'd1', ts, values: { a } });

  it('is saturated at HISTORY_QUEUE_MAX, drops and counts beyond twice it, then writes', async () => {
    sut.enqueue(
      'd1',
      Array.from({ length: 9 }, (_, i) => reading(1_000_000 + i, i)),
    );
    expect(sut.saturated).toBe(false);
    sut.enqueue(
      'd1',
      Array.from({ length: 16 }, (_, i) => reading(2_000_000 + i, i)),
    );
    expect(sut.saturated).toBe(true);
    expect(sut.stats()).toMatchObject({ queued: 20, dropped: { queueFull: 5 } });
    let released = false;
    const room = sut.whenAccepting().then(() => (released = true));
    await sut.flush(); // at most BATCH_MAX values per flush: all 20 here
    await room;
    expect(released).toBe(true);
    expect(sut.stats()).toMatchObject({ queued: 0, written: 20, flushes: 1, acksWithheld: 1 });
    expect((await store.readRaw('d1', 'a', 0, Infinity, 100)).ts).toHaveLength(20);
  });

  it('keeps a batch the store refused, retries it, and counts it dropped after the last try', async () => {
    sut.enqueue('d1', [reading(1_000_000, 1)]);
    await store.close(); // every write now fails
    jest.useFakeTimers({ now: Date.now() });
    try {
      for (let i = 0; i < 10; i++) {
        await sut.flush();
        // Backing off: a flush before the retry time writes nothing.
        if (i === 0) expect((await sut.flush(), sut.stats().failures)).toBe(1);
        jest.advanceTimersByTime(5000);
      }
    } finally {
      jest.useRealTimers();
    }
    expect(sut.stats()).toMatchObject({ failures: 10, queued: 0, dropped: { writeFailed: 1 } });
  });

  it('joins stored past and recent window at the edge: no gap, no duplicate', async () => {
    const history = new HistoryService(config, sut);
    const reader = new HistoryReader(config, history, store);
    const now = Date.now();
    // Stored by an earlier run: 10 points a minute apart, the last one 3 min ago.
    const before = Array.from({ length: 10 }, (_, i) => reading(now - (12 - i) * 60_000, i));
    await store.write({
      deviceIds: before.map(() => 'd1'),
      metrics: before.map(() => 'a'),
      ts: before.map((r) => r.ts),
      values: before.map((r) => r.values.a),
    });
    // This run: two new points, recorded (window) and queued (store), then written.
    history.record('d1', [reading(now - 1000, 100), reading(now, 101)]);
    await sut.flush();
    // A late point older than the window's first: written to the store, not read twice.
    history.record('d1', [reading(now - 2000, 99)]);
    await sut.flush();
    const series = await reader.query('d1', now - 3_600_000, Infinity, 1000);
    expect(series).toHaveLength(1);
    expect(series[0].v).toEqual([...before.map((r) => r.values.a), 99, 100, 101]);
    expect(new Set(series[0].t).size).toBe(series[0].t.length);
    // A range the window holds alone is answered from memory, synchronously.
    expect(Array.isArray(reader.query('d1', now - 500, Infinity, 1000, ['a']))).toBe(true);
  });

  it('writes at the next start what QoS 1 devices were acknowledged for before a kill, once', async () => {
    jest.useFakeTimers({ now: Date.now(), doNotFake: ['setImmediate', 'nextTick'] });
    const first = new HistoryWriter({ ...config, DATA_DIR: dir }, store);
    try {
      await first.onModuleInit(); // its flush timer never fires: fake time does not advance
      first.enqueue('d1', [reading(1_000, 1), reading(2_000, 2)], true);
      await first.flush(); // stored, then journaled after the flush's rotation:
      first.enqueue('d1', [reading(3_000, 3)], true);
      first.enqueue('d1', [reading(4_000, 4)]); // QoS 0: not journaled, lost with the process
      first.enqueue('d1', [reading(5_000, 5)], true);
    } finally {
      jest.useRealTimers();
    }
    // Killed here: no flush, no shutdown. The next start, on the same data directory:
    killed(first);
    const again = new SqliteHistoryStore(join(dir, HISTORY_DATABASE_FILE));
    const second = new HistoryWriter({ ...config, DATA_DIR: dir }, again);
    await second.onModuleInit();
    try {
      expect((await again.readRaw('d1', 'a', 0, Infinity, 100)).ts).toEqual([
        1_000, 2_000, 3_000, 5_000,
      ]);
      expect(second.stats().journal).toMatchObject({ recovered: 2, unreadable: 0, segments: 1 });
      // Stored now, so a third start finds nothing more to write.
      second.enqueue('d1', [reading(6_000, 6)], true);
      await second.onApplicationShutdown();
      const third = new HistoryWriter(
        { ...config, DATA_DIR: dir },
        new SqliteHistoryStore(join(dir, HISTORY_DATABASE_FILE)),
      );
      await third.onModuleInit();
      expect(third.stats().journal).toMatchObject({ recovered: 0, segments: 1 });
      await third.onApplicationShutdown();
    } finally {
      await second.onApplicationShutdown().catch(() => undefined);
    }
  });

  it('refuses a second writer on a journal another holds, before it reads or deletes anything', async () => {
    const first = new HistoryWriter({ ...config, DATA_DIR: dir }, store);
    await first.onModuleInit();
    first.enqueue('d1', [reading(7_000, 7)], true);
    const journal = join(dir, 'history-journal');
    const segments = () => readdirSync(journal).filter((f) => f.startsWith('segment-'));
    const before = segments();

    const second = new HistoryWriter(
      { ...config, DATA_DIR: dir },
      new SqliteHistoryStore(join(dir, HISTORY_DATABASE_FILE)),
    );
    await expect(second.onModuleInit()).rejects.toThrow(
      /history journal .* is held by process \d+ .*is Pulse already running with this DATA_DIR/,
    );
    // Its shutdown (the app closes what failed to start) leaves the journal alone too.
    await second.onApplicationShutdown();

    expect(segments()).toEqual(before);
    expect(second.stats().journal).toMatchObject({ recovered: 0 });
    // The first goes on and stops cleanly, its reading stored.
    await first.onApplicationShutdown();
    const after = new SqliteHistoryStore(join(dir, HISTORY_DATABASE_FILE));
    await after.open();
    try {
      expect((await after.readRaw('d1', 'a', 0, Infinity, 10)).ts).toEqual([7_000]);
    } finally {
      await after.close();
    }
    expect(segments()).toEqual([]);
  });

  it('keeps one journal per GATEWAY_ID in a DATA_DIR gateways share', async () => {
    const gatewayA = new HistoryWriter({ ...config, DATA_DIR: dir, GATEWAY_ID: 'a' }, store);
    await gatewayA.onModuleInit();
    gatewayA.enqueue('d3', [reading(9_000, 9)], true);
    // Gateway b starts on the same directory while a runs: a's journal is not b's to replay.
    const other = new SqliteHistoryStore(join(dir, HISTORY_DATABASE_FILE));
    const gatewayB = new HistoryWriter({ ...config, DATA_DIR: dir, GATEWAY_ID: 'b' }, other);
    await gatewayB.onModuleInit();
    try {
      expect(gatewayB.stats().journal).toMatchObject({ recovered: 0 });
      expect(readdirSync(join(dir, 'history-journal')).sort()).toEqual(['gateway-a', 'gateway-b']);
    } finally {
      await gatewayB.onApplicationShutdown();
      await gatewayA.onApplicationShutdown();
    }
  });

  it('skips a torn last line and keeps the rest of the journal', async () => {
    const journalDir = join(dir, 'history-journal');
    mkdirSync(journalDir);
    writeFileSync(
      join(journalDir, 'segment-000000000001.jsonl'),
      `${JSON.stringify(['d2', [{ ts: 7_000, values: { a: 7 } }]])}\n["d2",[{"ts":8000,"val`,
    );
    const writer = new HistoryWriter({ ...config, DATA_DIR: dir }, store);
    await writer.onModuleInit();
    try {
      expect((await store.readRaw('d2', 'a', 0, Infinity, 100)).ts).toEqual([7_000]);
      expect(writer.stats().journal).toMatchObject({ recovered: 1, unreadable: 1 });
    } finally {
      await writer.onApplicationShutdown();
    }
  });
});

// The shutdown order (issue 13, a CI log line "history write … database connection is not
// open"): a flush chained (setImmediate) before the shutdown began must not write once the
// writer closed the store, even when a reading released by the shutdown arrives after it.
describe('HistoryWriter at shutdown', () => {
  it('never writes to the store it closed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-writer-'));
    const database = new Database({ DATA_DIR: dir });
    const store = new SqliteHistoryStore(join(dir, HISTORY_DATABASE_FILE));
    await store.open();
    const sut = new HistoryWriter(
      {
        HISTORY_QUEUE_MAX: 100_000,
        HISTORY_FLUSH_MS: 60_000,
        RETENTION_RAW: 86_400_000,
        RETENTION_1M: 86_400_000,
        RETENTION_1H: 86_400_000,
        DATA_DIR: dir,
      },
      store,
    );
    try {
      const at = Date.now();
      const readings = (from: number, n: number) =>
        Array.from({ length: n }, (_, i) => ({ deviceId: 'd1', ts: from + i, values: { a: i } }));
      sut.enqueue('d1', readings(at, BATCH_MAX + 10)); // two batches: the first chains the next
      await sut.flush();
      await sut.onApplicationShutdown(); // writes the rest and closes the store
      sut.enqueue('d1', readings(at + 1_000_000, 3)); // a message released by the shutdown
      await new Promise((resolve) => setImmediate(resolve)); // the chained flush runs now
      await new Promise((resolve) => setImmediate(resolve));
      expect(sut.stats()).toMatchObject({ written: BATCH_MAX + 10, failures: 0 });
    } finally {
      database.onApplicationShutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// The next batch goes to the store while one is being written (decision 0037): the store is
// never left idle while the answer crosses a busy event loop, and the journal is still released
// in queue order, whatever order the writes succeed in.
describe('HistoryWriter with a batch ahead', () => {
  let dir: string;
  let database: Database;
  let store: SqliteHistoryStore;
  let sut: HistoryWriter;
  /** Sizes of the batches handed to the store, in order. */
  let handed: number[];
  /** One gate per batch handed over: the write runs when the test opens it, or fails. */
  let gates: { open(): void; fail(error: Error): void }[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-writer-ahead-'));
    database = new Database({ DATA_DIR: dir });
    store = new SqliteHistoryStore(join(dir, HISTORY_DATABASE_FILE));
    handed = [];
    gates = [];
    // Writes run one at a time in the order handed over, as the store's worker answers them.
    let chain: Promise<unknown> = Promise.resolve();
    const gated = {
      kind: 'sqlite',
      writesInOrder: true,
      open: () => store.open(),
      prune: (...args: Parameters<HistoryStore['prune']>) => store.prune(...args),
      close: () => store.close(),
      write(batch: WriteBatch): Promise<number> {
        handed.push(batch.ts.length);
        const gate = new Promise<void>((open, fail) => gates.push({ open: () => open(), fail }));
        const result = chain.then(() => gate).then(() => store.write(batch));
        chain = result.catch(() => undefined);
        return result;
      },
    } as unknown as HistoryStore;
    sut = new HistoryWriter(
      {
        HISTORY_QUEUE_MAX: 1_000_000,
        HISTORY_FLUSH_MS: 60_000,
        RETENTION_RAW: 7 * 86_400_000,
        RETENTION_1M: 30 * 86_400_000,
        RETENTION_1H: 365 * 86_400_000,
        DATA_DIR: dir,
      },
      gated,
    );
    await sut.onModuleInit();
  });
  afterEach(async () => {
    gates.forEach((gate) => gate.open());
    await sut.onApplicationShutdown();
    database.onApplicationShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  const t0 = Date.now() - 3_600_000; // inside retention whenever the test runs
  const readings = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({ deviceId: 'd1', ts: t0 + from + i, values: { a: i } }));
  /** Until the writer has nothing in hand (each flush awaits the write under way). */
  const settled = async () => {
    for (let i = 0; i < 20 && sut.stats().queued > 0; i++) {
      await sut.flush();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const stored = async () => (await store.readRaw('d1', 'a', 0, Infinity, 1_000_000)).ts.length;

  it('hands the next batch over while one is written, and stores both in order', async () => {
    sut.enqueue('d1', readings(0, 10), true);
    const first = sut.flush();
    sut.enqueue('d1', readings(10, AHEAD_AT), true); // enough for the next batch: handed at once
    expect(handed).toEqual([10, AHEAD_AT]);
    expect(sut.stats()).toMatchObject({ queued: 10 + AHEAD_AT, written: 0 });
    gates[0].open();
    await first;
    expect(sut.stats()).toMatchObject({ written: 10, queued: AHEAD_AT });
    gates[1].open();
    await settled();
    expect(handed).toEqual([10, AHEAD_AT]); // nothing written twice
    expect(sut.stats()).toMatchObject({ written: 10 + AHEAD_AT, queued: 0, failures: 0 });
    expect(sut.stats().journal).toMatchObject({ segments: 1 });
    expect(await stored()).toBe(10 + AHEAD_AT);
  });

  it('counts a batch stored ahead of a failed one only once that one is stored', async () => {
    sut.enqueue('d1', readings(0, 10), true);
    const first = sut.flush();
    sut.enqueue('d1', readings(10, AHEAD_AT), true);
    gates[0].fail(new Error('disk I/O error'));
    gates[1].open();
    await first;
    // The batch ahead is in the store, but what came before it is not: neither counts as
    // stored, and both keep their journal segments (a kill now writes them at the next start).
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await stored()).toBe(AHEAD_AT);
    expect(sut.stats()).toMatchObject({ written: 0, failures: 1, queued: 10 + AHEAD_AT });
    expect(sut.stats().journal?.segments).toBeGreaterThanOrEqual(3);
    // The retry after the back-off (0.2 s), then the batch ahead is counted.
    await new Promise((resolve) => setTimeout(resolve, 250));
    const retry = sut.flush();
    expect(handed).toEqual([10, AHEAD_AT, 10]);
    gates[2].open();
    await retry;
    await settled();
    expect(handed).toEqual([10, AHEAD_AT, 10]); // the batch ahead was not written again
    expect(sut.stats()).toMatchObject({
      written: 10 + AHEAD_AT,
      duplicates: 0,
      queued: 0,
      failures: 1,
    });
    expect(sut.stats().journal).toMatchObject({ segments: 1 });
    expect(await stored()).toBe(10 + AHEAD_AT);
  });

  it('writes one batch at a time to a store that does not apply writes in order', async () => {
    (sut as unknown as { store: { writesInOrder: boolean } }).store.writesInOrder = false;
    sut.enqueue('d1', readings(0, 10), true);
    const first = sut.flush();
    sut.enqueue('d1', readings(10, AHEAD_AT), true);
    expect(handed).toEqual([10]);
    gates[0].open();
    await first;
    await new Promise((resolve) => setImmediate(resolve)); // the chained flush
    expect(handed).toEqual([10, AHEAD_AT]);
    gates[1].open();
    await settled();
    expect(await stored()).toBe(10 + AHEAD_AT);
  });

  it('writes a batch ahead at shutdown', async () => {
    sut.enqueue('d1', readings(0, 10), true);
    void sut.flush();
    sut.enqueue('d1', readings(10, AHEAD_AT), true);
    const shutdown = sut.onApplicationShutdown();
    gates.forEach((gate) => gate.open());
    await shutdown;
    expect(sut.stats()).toMatchObject({ written: 10 + AHEAD_AT, queued: 0 });
    expect(sut.stats().journal).toMatchObject({ segments: 0 });
    await store.open();
    expect(await stored()).toBe(10 + AHEAD_AT);
  });
});

// A large fleet at 1 reading/s (issue 11 at 10,000 devices): a write touches a store page per
// series, so values written one per series per flush cost a page each, and the SQLite writer fell
// behind after ~2 minutes (a full core, 220–280 MB/s written, the queue at its limit). A device's
// values now wait up to HISTORY_HOLD_MS to be written with its next ones (decision 0044).
describe('HistoryWriter holding a device’s values (HISTORY_HOLD_MS)', () => {
  let dir: string;
  let database: Database;
  let store: SqliteHistoryStore;
  /** Per batch handed to the store: how many values each series had in it. */
  let perSeries: Map<string, number>[];
  const t0 = Date.now() - 3_600_000;
  const base = {
    HISTORY_QUEUE_MAX: 1_000_000,
    HISTORY_FLUSH_MS: 500,
    RETENTION_RAW: 7 * 86_400_000,
    RETENTION_1M: 30 * 86_400_000,
    RETENTION_1H: 365 * 86_400_000,
  };

  beforeEach(async () => {
    jest.useFakeTimers({ now: Date.now(), doNotFake: ['setImmediate', 'nextTick'] });
    dir = mkdtempSync(join(tmpdir(), 'pulse-writer-hold-'));
    database = new Database({ DATA_DIR: dir });
    store = new SqliteHistoryStore(join(dir, HISTORY_DATABASE_FILE));
    await store.open();
    perSeries = [];
  });
  afterEach(async () => {
    jest.useRealTimers();
    await store.close();
    database.onApplicationShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The store, counting each batch's values per series on the way in. */
  const counted = (): HistoryStore =>
    ({
      kind: 'sqlite',
      writesInOrder: true,
      open: async () => undefined,
      prune: async () => 0,
      close: async () => undefined,
      write(batch: WriteBatch): Promise<number> {
        const counts = new Map<string, number>();
        for (let i = 0; i < batch.ts.length; i++) {
          const key = `${batch.deviceIds[i]}/${batch.metrics[i]}`;
          counts.set(key, (counts.get(key) ?? 0) + 1);
        }
        perSeries.push(counts);
        return store.write(batch);
      },
    }) as unknown as HistoryStore;

  /** `devices` devices × 2 metrics, one reading a second each for `seconds`, flushed as the timer would. */
  async function fleet(sut: HistoryWriter, devices: number, seconds: number): Promise<void> {
    for (let s = 0; s < seconds; s++) {
      for (let d = 0; d < devices; d++)
        sut.enqueue(`dev-${d}`, [
          { deviceId: `dev-${d}`, ts: t0 + s * 1000, values: { a: s, b: -s } },
        ]);
      for (let half = 0; half < 2; half++) {
        jest.advanceTimersByTime(500);
        await sut.flush();
      }
    }
  }
  const stored = async (devices: number) => {
    let n = 0;
    for (let d = 0; d < devices; d++)
      n += (await store.readRaw(`dev-${d}`, 'b', 0, Infinity, 1e6)).ts.length;
    return n;
  };

  it('writes each series of a fleet at 1 reading/s five values at a time, and every value', async () => {
    const sut = new HistoryWriter({ ...base, HISTORY_HOLD_MS: 5000, DATA_DIR: dir }, counted());
    await fleet(sut, 300, 21);
    await sut.onApplicationShutdown();
    const running = perSeries.slice(0, -1); // the last one is the shutdown's: whatever waited
    expect(running.length).toBeGreaterThanOrEqual(3);
    for (const counts of running) expect(Math.min(...counts.values())).toBeGreaterThanOrEqual(5);
    expect(sut.stats()).toMatchObject({
      written: 300 * 2 * 21,
      queued: 0,
      dropped: { queueFull: 0 },
    });
    expect(await stored(300)).toBe(300 * 21);
  });

  it('without a hold writes one value per series per flush (the behaviour it replaces)', async () => {
    const sut = new HistoryWriter({ ...base, HISTORY_HOLD_MS: 0, DATA_DIR: dir }, counted());
    await fleet(sut, 300, 3);
    await sut.onApplicationShutdown();
    expect(perSeries).toHaveLength(3);
    for (const counts of perSeries) expect(Math.max(...counts.values())).toBe(1);
  });

  it('writes a device at once when it has 16 readings waiting, or when the queue is half full', async () => {
    const sut = new HistoryWriter(
      { ...base, HISTORY_QUEUE_MAX: 100, HISTORY_HOLD_MS: 60_000, DATA_DIR: dir },
      counted(),
    );
    const burst = (id: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ deviceId: id, ts: t0 + i, values: { a: i } }));
    sut.enqueue('slow', burst('slow', 1));
    sut.enqueue('fast', burst('fast', HOLD_READINGS));
    await sut.flush();
    expect(perSeries.map((c) => Object.fromEntries(c))).toEqual([{ 'fast/a': HOLD_READINGS }]);
    // Half of HISTORY_QUEUE_MAX waiting: every device is due, oldest first.
    sut.enqueue('other', burst('other', 49));
    await sut.flush();
    expect(Object.fromEntries(perSeries[1])).toEqual({ 'slow/a': 1, 'other/a': 49 });
    expect(sut.stats()).toMatchObject({ queued: 0, written: 1 + HOLD_READINGS + 49 });
    await sut.onApplicationShutdown();
  });

  it('keeps a held QoS 1 value in the journal while a later device is written, and writes it after a kill', async () => {
    const first = new HistoryWriter({ ...base, HISTORY_HOLD_MS: 60_000, DATA_DIR: dir }, store);
    await first.onModuleInit();
    first.enqueue('held', [{ deviceId: 'held', ts: t0, values: { a: 1 } }], true);
    first.enqueue(
      'fast',
      Array.from({ length: HOLD_READINGS }, (_, i) => ({
        deviceId: 'fast',
        ts: t0 + i,
        values: { a: i },
      })),
      true,
    );
    await first.flush();
    expect((await store.readRaw('fast', 'a', 0, Infinity, 100)).ts).toHaveLength(HOLD_READINGS);
    expect((await store.readRaw('held', 'a', 0, Infinity, 100)).ts).toHaveLength(0);
    // Killed here (no shutdown): the next start writes the held value from the journal, and the
    // fast device's values once.
    killed(first);
    const again = new SqliteHistoryStore(join(dir, HISTORY_DATABASE_FILE));
    const second = new HistoryWriter({ ...base, HISTORY_HOLD_MS: 60_000, DATA_DIR: dir }, again);
    await second.onModuleInit();
    try {
      expect((await again.readRaw('held', 'a', 0, Infinity, 100)).values).toEqual([1]);
      expect((await again.readRaw('fast', 'a', 0, Infinity, 100)).ts).toHaveLength(HOLD_READINGS);
    } finally {
      await second.onApplicationShutdown();
    }
  });
});
