import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { Database, DATABASE_FILE } from '../store/database';
import type { WriteBatch } from './history-store';
import { HISTORY_DATABASE_FILE } from './sqlite-history.store';
import { packBatch, SqliteWorkerHistoryStore, unpackBatch } from './sqlite-worker-history.store';

// A real worker thread on a real SQLite file; the contract itself is history-store.spec.ts's.
describe('SqliteWorkerHistoryStore', () => {
  let dir: string;
  let database: Database;
  let sut: SqliteWorkerHistoryStore;
  const t0 = Date.UTC(2026, 11, 2, 10);
  const batch = (ts: number[]): WriteBatch => ({
    deviceIds: ts.map(() => 'd1'),
    metrics: ts.map(() => 'a'),
    ts,
    values: ts.map((_, i) => i),
  });
  const workerOf = (store: SqliteWorkerHistoryStore) =>
    (store as unknown as { worker: Worker | null }).worker;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-history-worker-'));
    database = new Database({ DATA_DIR: dir });
    sut = new SqliteWorkerHistoryStore(join(dir, HISTORY_DATABASE_FILE), {
      legacyFile: join(dir, DATABASE_FILE),
    });
    await sut.open();
  }, 30_000);
  afterEach(async () => {
    await sut.close();
    database.onApplicationShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails the calls in flight when its thread dies, and the next call works on a new one', async () => {
    expect(await sut.write(batch([t0, t0 + 1000]))).toBe(2);
    const first = workerOf(sut) as Worker;
    // Long enough (a second or more) to be under way when the thread is killed.
    const big = Array.from({ length: 300_000 }, (_, i) => t0 + 10_000 + i);
    const inFlight = sut.write(batch(big));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await first.terminate();
    await expect(inFlight).rejects.toThrow(/history worker exited/);
    // Its transaction never committed; the writer's retry of a failed batch lands once.
    expect(await sut.write(batch([t0 + 2000]))).toBe(1);
    expect(workerOf(sut)).not.toBe(first);
    const stored = await sut.readRaw('d1', 'a', t0, t0 + 1e9, 1e6);
    expect(stored.ts.length === 3 || stored.ts.length === 3 + big.length).toBe(true);
    expect(stored.ts.slice(0, 3)).toEqual([t0, t0 + 1000, t0 + 2000]);
  }, 30_000);

  it('answers calls in the order they were made', async () => {
    const writes = [0, 1, 2, 3].map((i) => sut.write(batch([t0 + i * 1000])));
    const read = sut.readRaw('d1', 'a', t0, t0 + 10_000, 10);
    expect(await Promise.all(writes)).toEqual([1, 1, 1, 1]);
    expect((await read).ts).toHaveLength(4);
  }, 30_000);

  it('sends a batch of interleaved devices and metrics whole, each value with its own series', async () => {
    const mixed: WriteBatch = {
      deviceIds: ['d1', 'd2', 'd2', 'd1', 'd3', 'd1'],
      metrics: ['a', 'a', 'b', 'b', 'a', 'a'],
      ts: [t0, t0, t0, t0, t0, t0 + 1],
      values: [1, 2, 3, 4, 5, 6.5],
    };
    expect(unpackBatch(packBatch(mixed))).toEqual(mixed);
    expect(await sut.write(mixed)).toBe(6);
    expect(await sut.readRaw('d2', 'b', t0, t0 + 10, 10)).toEqual({ ts: [t0], values: [3] });
    expect(await sut.readRaw('d1', 'a', t0, t0 + 10, 10)).toEqual({
      ts: [t0, t0 + 1],
      values: [1, 6.5],
    });
  });

  it('refuses calls once closed', async () => {
    await sut.close();
    await expect(sut.write(batch([t0]))).rejects.toThrow(/closed/);
  });
});
