import { Logger } from '@nestjs/common';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/*
 * Checkpoints of the history file off the writer's thread (decision 0040). In WAL mode a commit
 * appends pages to `history.db-wal`; a checkpoint copies them into `history.db` and syncs it.
 * Run by the writer's own connection (SQLite's automatic checkpoint, every 64 MiB of WAL) it
 * stalled the commit that crossed the line by 120–140 ms, most of it waiting on fsync, and every
 * write and history query queued behind it in the store's thread waited as long (decision 0037).
 * Now a thread of its own copies what was committed every CHECKPOINT_EVERY_MS; the writer's
 * automatic checkpoint stays as the backstop (it finds little or nothing left to copy), so the
 * WAL stays bounded if this thread is slow, fails or is gone. Owns the thread's lifecycle; the
 * loop is sqlite-checkpointer.worker.js.
 */

/** How often the checkpointer copies the WAL's committed pages into the file. */
export const CHECKPOINT_EVERY_MS = 500;
/** At most this long to stop the thread cleanly before it is terminated. */
const STOP_TIMEOUT_MS = 2_000;
/**
 * The thread's script, plain JavaScript: beside the bundle in dist/backend (a webpack asset) and
 * beside this file in the source, so `__dirname` finds it in both.
 */
const SCRIPT = 'sqlite-checkpointer.worker.js';

export class WalCheckpointer {
  private readonly logger = new Logger('HistoryStore');
  private worker: Worker | null;

  /** Starts the thread on `file`, which the store has opened (and put in WAL mode). */
  constructor(file: string, everyMs = CHECKPOINT_EVERY_MS) {
    // No inherited Node options: inside the store's own thread under jest they would load a
    // TypeScript loader for this plain script.
    const worker = new Worker(join(__dirname, SCRIPT), {
      workerData: { file, everyMs },
      execArgv: [],
    });
    // Never what keeps a process alive: the store's close() stops it.
    worker.unref();
    worker.on('error', (error) => {
      // A pass that failed (I/O error, disk full) ends the thread. The writer's automatic
      // checkpoint still bounds the WAL: only the stalls come back.
      this.logger.warn(`history checkpointer stopped: ${error.message}`);
      this.worker = null;
    });
    worker.on('exit', () => (this.worker = null));
    this.worker = worker;
  }

  /** Stops the thread, its connection closed first so no pass is cut halfway. */
  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, STOP_TIMEOUT_MS);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    worker.postMessage({ op: 'stop' });
    await exited;
    await worker.terminate();
  }
}
