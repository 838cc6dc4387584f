import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Migration } from '../store/database';
import * as port from './history-store';
import { HISTORY_SQLITE_MIGRATIONS } from './sqlite-history.store';

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

export type StoreCall = Exclude<keyof port.HistoryStore, 'kind'>;

export interface WorkerRequest {
  id: number;
  op: StoreCall;
  args: unknown[];
}

export type WorkerReply = { id: number; result: unknown } | { id: number; error: string };

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
  private worker: Worker | null = null;
  private opened: Promise<unknown> | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(
    private readonly file: string,
    private readonly migrate: (migrations: readonly Migration[]) => unknown,
  ) {}

  async open(): Promise<void> {
    // On the main thread, through the shared runner, before any connection of the worker's.
    this.migrate(HISTORY_SQLITE_MIGRATIONS);
    await this.ready();
  }

  /** The worker, started (and opened) if there is none. */
  private ready(): Promise<unknown> {
    if (this.closed) return Promise.reject(new Error('history store is closed'));
    if (this.worker && this.opened) return this.opened;
    const script = workerScript();
    const worker = new Worker(script.file, {
      workerData: { file: this.file },
      execArgv: script.execArgv,
      env: script.execArgv.length
        ? { ...process.env, TS_NODE_COMPILER_OPTIONS: '{"module":"commonjs"}' }
        : process.env,
    });
    worker.unref();
    worker.on('message', (reply: WorkerReply) => this.settle(reply));
    worker.on('error', (error) => this.lost(worker, error));
    worker.on('exit', (code) => this.lost(worker, new Error(`history worker exited (${code})`)));
    this.worker = worker;
    this.opened = this.send(worker, 'open', []);
    return this.opened;
  }

  private send(worker: Worker, op: StoreCall, args: unknown[]): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, op, args } satisfies WorkerRequest);
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

  write(batch: port.WriteBatch): Promise<number> {
    return this.call('write', batch);
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

  prune(cutoffs: port.RetentionCutoffs, budget: number): Promise<number> {
    return this.call('prune', cutoffs, budget);
  }

  size(): Promise<number> {
    return this.call('size');
  }

  /** Writes the held minutes and closes the connection in the worker, then ends it. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (this.closed || !worker) {
      this.closed = true;
      return;
    }
    try {
      await this.opened;
      await this.send(worker, 'close', []);
    } finally {
      this.closed = true;
      this.worker = null;
      await worker.terminate();
    }
  }
}
