import { parentPort, workerData } from 'node:worker_threads';
import { SqliteHistoryStore } from './sqlite-history.store';
import {
  PackedBatch,
  unpackBatch,
  type WorkerReply,
  type WorkerRequest,
} from './sqlite-worker-history.store';

/*
 * The embedded history store's thread (decision 0021, "writes off the event loop"): one
 * {@link SqliteHistoryStore} on its own connection, answering the gateway's calls in the order
 * they come (the store migrates its own file at open). Owns nothing but the relay:
 * the store's logic stays in sqlite-history.store.ts, the protocol in sqlite-worker-history.store.ts.
 */

const port = parentPort;
if (!port) throw new Error('sqlite-history.worker must run in a worker thread');

const { file, legacyFile } = workerData as { file: string; legacyFile?: string };
const store = new SqliteHistoryStore(file, { legacyFile });

const OPS = new Set<WorkerRequest['op']>([
  'open',
  'write',
  'readRaw',
  'readRollup',
  'metricsOf',
  'latestOf',
  'prune',
  'size',
  'close',
]);

port.on('message', async (request: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    if (!OPS.has(request.op)) throw new Error(`unknown history store call ${request.op}`);
    const method = store[request.op] as (...args: unknown[]) => Promise<unknown>;
    const args =
      request.op === 'write' ? [unpackBatch(request.args[0] as PackedBatch)] : request.args;
    const result = await method.apply(store, args);
    // `open` answers how many readings it moved from pulse.db (the gateway logs it).
    reply = { id: request.id, result: request.op === 'open' ? store.legacyMoved : result };
  } catch (error) {
    reply = { id: request.id, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
  if (request.op === 'close') port.close();
});
