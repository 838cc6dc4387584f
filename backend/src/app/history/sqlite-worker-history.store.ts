import { Logger } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as port from './history-store';

/*
 * The embedded history store as the gateway uses it: {@link SqliteHistoryStore} run in a worker
 * thread (sqlite-history.worker.ts), so its transactions take the second core instead of the
 * event loop that ingests and fans out (measured before: the write transaction was 30–42 % of
 * the gateway's CPU at target 5's rate, all of it on the event loop; decision 0021). Same port,
 * same data, same semantics: calls are answered in order, one at a time. Owns the worker's
 * lifecycle and the call protocol; the SQL stays in the store.
 *
 * A worker that dies (an uncaught error, a native fault it survives) fails the calls in flight;
 * the next call starts a new one, which repairs the rollups from the raw rows as any open does,
 * and the writer's retry writes the failed batch again.
 */

export type StoreCall = Exclude<keyof port.HistoryStore, 'kind' | 'rollups' | 'readRollupGroups'>;

export interface WorkerRequest {
  id: number;
  op: StoreCall;
  args: unknown[];
}

export type WorkerReply = { id: number; result: unknown } | { id: number; error: string };

/**
 * A write batch as it crosses to the worker: device ids and metric names once each, indexed,
 * and the numbers in typed arrays moved rather than copied (half the main thread's cost of
 * cloning four plain arrays, measured at 20,000 values).
 */
export interface PackedBatch {
  devices: string[];
  deviceIndex: Int32Array;
  metrics: string[];
  metricIndex: Int32Array;
  ts: Float64Array;
  values: Float64Array;
}

/** Distinct strings of `column` and each entry's index among them (runs of one string are cheap). */
function dictionary(column: readonly string[]): [string[], Int32Array] {
  const seen = new Map<string, number>();
  const names: string[] = [];
  const index = new Int32Array(column.length);
  let last: string | undefined;
  let lastIndex = -1;
  for (let i = 0; i < column.length; i++) {
    const name = column[i];
    if (name !== last) {
      let found = seen.get(name);
      if (found === undefined) {
        found = names.length;
        seen.set(name, found);
        names.push(name);
      }
      last = name;
      lastIndex = found;
    }
    index[i] = lastIndex;
  }
  return [names, index];
}

export function packBatch(batch: port.WriteBatch): PackedBatch {
  const [devices, deviceIndex] = dictionary(batch.deviceIds);
  const [metrics, metricIndex] = dictionary(batch.metrics);
  return {
    devices,
    deviceIndex,
    metrics,
    metricIndex,
    ts: Float64Array.from(batch.ts),
    values: Float64Array.from(batch.values),
  };
}

export function unpackBatch(packed: PackedBatch): port.WriteBatch {
  const n = packed.ts.length;
  const batch: port.WriteBatch = { deviceIds: [], metrics: [], ts: [], values: [] };
  for (let i = 0; i < n; i++) {
    batch.deviceIds.push(packed.devices[packed.deviceIndex[i]]);
    batch.metrics.push(packed.metrics[packed.metricIndex[i]]);
    batch.ts.push(packed.ts[i]);
    batch.values.push(packed.values[i]);
  }
  return batch;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** The worker's script: the built bundle's entry (webpack), or the TypeScript source under jest. */
function workerScript(): { file: string; execArgv: string[] } {
  const built = join(__dirname, 'history-sqlite.worker.js');
  if (existsSync(built)) return { file: built, execArgv: [] };
  return {
    file: join(__dirname, 'sqlite-history.worker.ts'),
    execArgv: ['--require', 'ts-node/register/transpile-only'],
  };
}

export class SqliteWorkerHistoryStore implements port.HistoryStore {
  readonly kind = 'sqlite';
  /** The worker answers calls one at a time, in order. */
  readonly writesInOrder = true;
  private worker: Worker | null = null;
  private opened: Promise<unknown> | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  private readonly logger = new Logger('HistoryStore');

  /** As {@link SqliteHistoryStore}'s: the history file, and pulse.db to move old history from. */
  constructor(
    private readonly file: string,
    private readonly options: { legacyFile?: string } = {},
  ) {}

  async open(): Promise<void> {
    const moved = (await this.ready()) as number;
    if (moved > 0)
      this.logger.log(`moved ${moved} stored readings from pulse.db into ${this.file} (once)`);
  }

  /** The worker, started (and opened) if there is none. */
  private ready(): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('history store is closed'));
    if (this.worker && this.opened) return this.opened;
    const script = workerScript();
    const worker = new Worker(script.file, {
      workerData: { file: this.file, legacyFile: this.options.legacyFile },
      execArgv: script.execArgv,
      env: script.execArgv.length
        ? { ...process.env, TS_NODE_COMPILER_OPTIONS: '{"module":"commonjs"}' }
        : process.env,
    });
    // Not unref'd: the worker keeps the process alive until close() (the final flush at shutdown
    // runs after Nest closed the HTTP server).
    worker.on('message', (reply: WorkerReply) => this.settle(reply));
    worker.on('messageerror', (error) => this.lost(worker, error));
    worker.on('error', (error) => this.lost(worker, error));
    worker.on('exit', (code) => this.lost(worker, new Error(`history worker exited (${code})`)));
    this.worker = worker;
    const opened = this.send(worker, 'open', []);
    this.opened = opened;
    // An open that failed (say SQLITE_BUSY in repair) must not stick: end that worker, and the
    // next call starts another.
    opened.catch((error: Error) => {
      if (this.worker !== worker) return;
      this.lost(worker, error);
      void worker.terminate();
    });
    return opened;
  }

  private send(
    worker: Worker,
    op: StoreCall,
    args: unknown[],
    transfer: ArrayBuffer[] = [],
  ): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, op, args } satisfies WorkerRequest, transfer);
    });
  }

  private settle(reply: WorkerReply): void {
    const call = this.pending.get(reply.id);
    if (!call) return;
    this.pending.delete(reply.id);
    if ('error' in reply) call.reject(new Error(reply.error));
    else call.resolve(reply.result);
  }

  /** The worker is gone: what it was asked fails, and the next call starts another. */
  private lost(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.opened = null;
    const calls = [...this.pending.values()];
    this.pending.clear();
    for (const call of calls) call.reject(error);
  }

  private async call<T>(op: StoreCall, ...args: unknown[]): Promise<T> {
    await this.ready();
    return (await this.send(this.worker as Worker, op, args)) as T;
  }

  async write(batch: port.WriteBatch): Promise<number> {
    await this.ready();
    const packed = packBatch(batch);
    const moved = [packed.deviceIndex, packed.metricIndex, packed.ts, packed.values].map(
      (column) => column.buffer as ArrayBuffer,
    );
    return (await this.send(this.worker as Worker, 'write', [packed], moved)) as number;
  }

  readRaw(deviceId: string, metric: string, from: number, to: number, limit: number) {
    return this.call<port.RawRows>('readRaw', deviceId, metric, from, to, limit);
  }

  readRollup(resolution: port.Rollup, deviceId: string, metric: string, from: number, to: number) {
    return this.call<port.RollupRows>('readRollup', resolution, deviceId, metric, from, to);
  }

  metricsOf(deviceId: string): Promise<string[]> {
    return this.call('metricsOf', deviceId);
  }

  latestOf(deviceIds: readonly string[]): Promise<port.LatestRows> {
    return this.call('latestOf', deviceIds);
  }

  prune(cutoffs: port.RetentionCutoffs, budget: number): Promise<number> {
    return this.call('prune', cutoffs, budget);
  }

  size(): Promise<number> {
    return this.call('size');
  }

  /**
   * Writes the held minutes and closes the connection in the worker, then ends it. Calls made
   * from now on are refused; any still waiting when the worker ends are failed, never left hanging.
   */
  async close(): Promise<void> {
    const worker = this.worker;
    const opened = this.opened;
    this.closed = true;
    if (!worker) return;
    try {
      await opened;
      await this.send(worker, 'close', []);
    } finally {
      this.lost(worker, new Error('history store is closed'));
      await worker.terminate();
    }
  }
}
