import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { HistoryStoreStats, Reading } from '@pulse/protocol';
import { RateLimitedLog } from '../common/rate-limited-log';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG, Config } from '../config/config';
import { HistoryJournal, readJournal, readingsOfBatch } from './history-journal';
import { HISTORY_STORE, HistoryStore, RetentionCutoffs, WriteBatch } from './history-store';

/*
 * Gets readings into the durable store off the hot path: the ingest's `enqueue` only pushes
 * onto its device's columns; a timer writes what is due in one transaction per flush (at most
 * BATCH_MAX values), and a slower one deletes what retention has passed, a bounded amount per
 * pass. A device's values are due once its first has waited HISTORY_HOLD_MS, it has
 * HOLD_READINGS readings waiting, or the queue is half full (decision 0044). Readings of QoS 1
 * messages are journaled first (history-journal.ts), so what a device was acknowledged for
 * survives a kill before the flush. Owns the write queue, its limit policy
 * and the store's counters and lifecycle (open and journal recovery at init, final flush and close
 * at shutdown, after the ingest has stopped); must not decide what a query reads
 * (history-reader.service.ts does).
 */

/**
 * Values written in one transaction at most; more queued flush again at once. Neither store
 * blocks the event loop (SQLite runs in a worker thread, PostgreSQL is a socket), so the bound is
 * about efficiency and memory: SQLite in WAL mode appends every page a transaction dirtied to the
 * WAL, and with thousands of series each batch touches a page per series, so bigger batches put
 * more rows on each page written. Batches this big only form when the store is behind (at
 * HISTORY_FLUSH_MS, a fleet of 4,000 series at 1 reading/s queues 2,000 values). Store alone,
 * 1,000 devices × 4 metrics, CPU per value: 2,000 → 6.9–8.6 µs, 10,000 → 4.0–4.7, 20,000 →
 * 4.2–4.4 (decision 0021); with appends in chunks (decision 0037) 20,000 → 3.3–4.2 µs and
 * 50,000 → 2.1–2.4 µs, a 50,000-value transaction taking about what a 20,000 one took before.
 */
export const BATCH_MAX = 50_000;
/** A batch that failed this many times in a row is dropped (`dropped.writeFailed`). */
const MAX_ATTEMPTS = 10;
/** Longest wait between retries of a failing batch. */
const MAX_BACKOFF_MS = 5000;
/** Rows (PostgreSQL: rows or partitions) deleted per retention pass at most. */
export const PRUNE_BUDGET = 20_000;
/** Between retention passes; again at once-ish (PRUNE_AGAIN_MS) while a pass used its budget. */
const PRUNE_EVERY_MS = 60_000;
const PRUNE_AGAIN_MS = 1000;

/**
 * Values queued, while a batch is being written, from which the next batch is handed to the
 * store at once rather than when the write returns: the store works on it while the answer
 * crosses a busy event loop (decision 0037).
 */
export const AHEAD_AT = BATCH_MAX / 2;

/**
 * Readings of one device after which its values are due whatever HISTORY_HOLD_MS says: a
 * device publishing fast fills its pages quickly, and holding it longer only grows the queue.
 */
export const HOLD_READINGS = 16;

/** One device's values waiting for the store, in arrival order. */
interface DeviceQueue {
  deviceId: string;
  metrics: string[];
  ts: number[];
  values: number[];
  /** `queuedTotal` when its first value queued: no journal segment after it goes while it waits. */
  firstSeq: number;
  /** When its first value queued (performance.now(): a clock set back holds nothing longer). */
  since: number;
  readings: number;
}

/** Values taken out of the queue together; `firstSeq` is the lowest `queuedTotal` among them. */
type Taken = WriteBatch & { firstSeq: number };

/** A batch handed to the store while the one before it was being written, and its write. */
interface Ahead {
  batch: Taken;
  outcome: Promise<number>;
}

@Injectable()
export class HistoryWriter implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('HistoryStore');
  private readonly failureLog = new RateLimitedLog((line) => this.logger.error(line));
  /**
   * Values waiting, per device, oldest first: a device's entry is made when its first value
   * queues and goes when they are taken, so the first entry holds the oldest value waiting.
   */
  private readonly waiting = new Map<string, DeviceQueue>();
  private waitingValues = 0;
  /** The last take stopped at BATCH_MAX, or found fewer due than it asked: more are due now. */
  private moreDue = false;
  /** Values queued since a batch was last tried ahead (see enqueue). */
  private sinceAheadTry = 0;
  /** The batch being written or retried (its values still count as queued). */
  private pending: Taken | null = null;
  /**
   * The batch after it, already handed to the store (at most one, and only while nothing
   * fails). Its values count as queued until it is the batch written and that write returns:
   * the journal is released up to the oldest value not stored (unstoredFrom).
   */
  private ahead: Ahead | null = null;
  private attempts = 0;
  private retryAt = 0;
  private writing: Promise<void> | null = null;
  private flushTimer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;
  private stopped = false;
  /** The store is closed: nothing may write to it any more (a chained flush, a late message). */
  private closed = false;
  private waiters: (() => void)[] = [];
  private readonly journal: HistoryJournal;
  /** Values ever queued: each value's place in the journal's order. */
  private queuedTotal = 0;
  private readonly counts = {
    peerReplayed: 0,
    peerUnreadable: 0,
    written: 0,
    duplicates: 0,
    queueFull: 0,
    writeFailed: 0,
    flushes: 0,
    failures: 0,
    lastFlushMs: 0,
    maxFlushMs: 0,
    pruned: 0,
    acksWithheld: 0,
  };

  constructor(
    @Inject(CONFIG)
    private readonly config: Pick<
      Config,
      | 'HISTORY_QUEUE_MAX'
      | 'HISTORY_FLUSH_MS'
      | 'RETENTION_RAW'
      | 'RETENTION_1M'
      | 'RETENTION_1H'
      | 'DATA_DIR'
      | 'GATEWAY_ID'
    > &
      // Absent (the writer's own specs): every value is due at the next flush.
      Partial<Pick<Config, 'HISTORY_HOLD_MS'>>,
    @Inject(HISTORY_STORE) private readonly store: HistoryStore,
  ) {
    // Gateways given a GATEWAY_ID may share one DATA_DIR (the compose file's volume): each keeps
    // its own journal, found again by the same id after a restart.
    const dir = join(config.DATA_DIR, 'history-journal');
    this.journal = new HistoryJournal(
      config.GATEWAY_ID ? join(dir, `gateway-${config.GATEWAY_ID}`) : dir,
    );
  }

  /**
   * Write what a dead peer acknowledged and had not stored (several gateways on one DATA_DIR,
   * each with its GATEWAY_ID, as the compose file runs them): its journal, read and written to
   * the shared store, left in place for the peer's own next start (a point stored twice is kept
   * once). Resolves to the values written (0 without that layout or journal).
   */
  async replayPeer(
    peerId: string,
    /** The journal's readings, once written (the survivor's screens get them: see SessionDrain). */
    written: (readings: Map<string, Reading[]>) => void = () => undefined,
  ): Promise<number> {
    if (!this.config.GATEWAY_ID || peerId === this.config.GATEWAY_ID) return 0;
    const dir = join(this.config.DATA_DIR, 'history-journal', `gateway-${peerId}`);
    if (!existsSync(dir)) return 0;
    const { batch, unreadable } = readJournal(dir);
    this.counts.peerUnreadable += unreadable;
    if (batch.ts.length === 0) return 0;
    const inserted = await this.store.write(batch);
    try {
      written(readingsOfBatch(batch));
    } catch (error) {
      this.logger.warn(
        `journal of ${peerId}: not passed on to the screens: ${(error as Error).message}`,
      );
    }
    this.counts.peerReplayed += inserted;
    this.logger.log(
      `journal of ${peerId}: ${inserted} of ${batch.ts.length} values it acknowledged were not stored yet; written now`,
    );
    return inserted;
  }

  async onModuleInit(): Promise<void> {
    // First: a second gateway on this journal stops here, before the store or the folder is
    // touched (decision 0073).
    this.journal.hold();
    await this.store.open();
    // The last run's acknowledged readings first (duplicates of what it did store keep one point).
    const recovered = this.journal.recover();
    if (recovered.ts.length > 0) {
      const inserted = await this.store.write(recovered);
      this.logger.log(
        `journal: ${inserted} of ${recovered.ts.length} values acknowledged before the last stop were not stored yet; written now`,
      );
    }
    this.journal.release(0);
    this.flushTimer = setInterval(() => this.flush(), this.config.HISTORY_FLUSH_MS);
    this.flushTimer.unref();
    this.schedulePrune(PRUNE_AGAIN_MS);
  }

  /**
   * Whether the queue has reached HISTORY_QUEUE_MAX: the ingest then withholds the broker's
   * acknowledgement of each message until {@link whenAccepting} (QoS 1 devices wait, or the
   * broker keeps their messages) instead of dropping readings it already acknowledged.
   */
  get saturated(): boolean {
    return this.queuedValues() >= this.config.HISTORY_QUEUE_MAX;
  }

  /** Resolves once the queue is below HISTORY_QUEUE_MAX again (or the writer stopped). */
  whenAccepting(): Promise<void> {
    this.counts.acksWithheld++;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private queuedValues(): number {
    return this.waitingValues + this.inFlight();
  }

  /** Values taken out of the queue and not stored yet. */
  private inFlight(): number {
    return (this.pending?.ts.length ?? 0) + (this.ahead?.batch.ts.length ?? 0);
  }

  private release(): void {
    if (this.waiters.length === 0 || (this.saturated && !this.stopped)) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * Hot path: queue every value of the readings. Beyond HISTORY_QUEUE_MAX the messages in
   * flight while acknowledgements are withheld still fit (one per publishing connection);
   * at twice the limit values are dropped and counted.
   */
  enqueue(deviceId: string, readings: readonly Reading[], durable = false): void {
    // Before the acknowledgement goes out (the caller returns to the broker after this).
    if (durable) this.journal.append(deviceId, readings);
    const limit = 2 * this.config.HISTORY_QUEUE_MAX - this.inFlight();
    let q = this.waiting.get(deviceId);
    const before = this.waitingValues;
    for (let i = 0; i < readings.length; i++) {
      const { ts, values } = readings[i];
      for (const metric in values) {
        if (this.waitingValues >= limit) {
          this.counts.queueFull++;
          continue;
        }
        if (!q) {
          q = {
            deviceId,
            metrics: [],
            ts: [],
            values: [],
            firstSeq: this.queuedTotal,
            since: performance.now(),
            readings: 0,
          };
          this.waiting.set(deviceId, q);
        }
        q.metrics.push(metric);
        q.ts.push(ts);
        q.values.push(values[metric]);
        this.waitingValues++;
        this.queuedTotal++;
      }
    }
    if (q) q.readings += readings.length;
    // While a batch is being written, now and then: is a batch ahead due (the store is behind)?
    this.sinceAheadTry += this.waitingValues - before;
    if (this.writing && this.sinceAheadTry >= AHEAD_AT / 2) {
      this.sinceAheadTry = 0;
      this.sendAhead();
    }
  }

  /** While a batch is being written and nothing failed: the next one to the store now. */
  private sendAhead(): void {
    if (this.ahead || this.attempts > 0 || this.stopped || this.closed || !this.pending) return;
    if (!this.store.writesInOrder) return;
    const batch = this.take(AHEAD_AT);
    if (!batch) return;
    this.journal.rotate(this.queuedTotal);
    const outcome = this.store.write(batch);
    // Read when it becomes the batch in hand; a failure is handled there, not unhandled now.
    outcome.catch(() => undefined);
    this.ahead = { batch, outcome };
  }

  /** Write what is queued (one batch of at most BATCH_MAX), unless a write is under way. */
  flush(): Promise<void> {
    if (this.writing) return this.writing;
    if (this.closed) return Promise.resolve();
    // At shutdown one more try now, whatever the back-off says (a store that failed a moment ago
    // may be back: a restarted worker); the shutdown loop stops at the next failure.
    if (this.attempts > 0 && Date.now() < this.retryAt && !this.stopped) return Promise.resolve();
    let started: Ahead | undefined;
    if (!this.pending) {
      if (this.ahead) {
        // Handed to the store already: its outcome is this write's.
        started = this.ahead;
        this.ahead = null;
        this.pending = started.batch;
      } else {
        const batch = this.take();
        if (!batch) return Promise.resolve();
        this.pending = batch;
        // Whatever is journaled from now on is queued after this batch.
        this.journal.rotate(this.queuedTotal);
      }
    }
    this.writing = this.writePending(started).finally(() => {
      this.writing = null;
      this.release();
      // More than one batch due: keep going without waiting for the next tick.
      if (!this.stopped && !this.pending && (this.ahead || this.dueNow()))
        setImmediate(() => void this.flush());
    });
    // Not behind a batch whose outcome is still to be read (it may have failed): the next
    // enqueue sends one once it is known.
    if (!started) this.sendAhead();
    return this.writing;
  }

  /**
   * The values due, oldest device first, whole devices up to BATCH_MAX (one device may pass
   * it); null when fewer than `atLeast` are due. Stopping, without a hold or with the queue half
   * full, every device is due.
   */
  private take(atLeast = 1): Taken | null {
    const holdMs = this.holdMs();
    const now = performance.now();
    const due: DeviceQueue[] = [];
    let n = 0;
    this.moreDue = false;
    for (const q of this.waiting.values()) {
      if (holdMs > 0 && q.readings < HOLD_READINGS && now - q.since < holdMs) continue;
      if (n > 0 && n + q.ts.length > BATCH_MAX) {
        this.moreDue = true;
        break;
      }
      due.push(q);
      n += q.ts.length;
      if (n >= BATCH_MAX) {
        this.moreDue = true;
        break;
      }
    }
    if (n < atLeast) {
      this.moreDue = n > 0;
      return null;
    }
    // Taken in the map's order, which is their first values' order.
    const batch: Taken = {
      deviceIds: [],
      metrics: [],
      ts: [],
      values: [],
      firstSeq: due[0].firstSeq,
    };
    for (const q of due) {
      // One device over BATCH_MAX (the only one taken): its first BATCH_MAX values now, the rest
      // stays first in line with its first value's place (the journal keeps it a little longer).
      const count = Math.min(q.ts.length, BATCH_MAX);
      for (let i = 0; i < count; i++) {
        batch.deviceIds.push(q.deviceId);
        batch.metrics.push(q.metrics[i]);
        batch.ts.push(q.ts[i]);
        batch.values.push(q.values[i]);
      }
      if (count === q.ts.length) this.waiting.delete(q.deviceId);
      else {
        q.metrics.splice(0, count);
        q.ts.splice(0, count);
        q.values.splice(0, count);
      }
      this.waitingValues -= count;
    }
    return batch;
  }

  /** How long a device's values may wait now: 0 when stopping, without a hold, or half full. */
  private holdMs(): number {
    if (this.stopped || this.waitingValues >= this.config.HISTORY_QUEUE_MAX / 2) return 0;
    return this.config.HISTORY_HOLD_MS ?? 0;
  }

  /** Whether values are due without waiting for the next tick (held ones wait for it). */
  private dueNow(): boolean {
    return this.moreDue || (this.waitingValues > 0 && this.holdMs() === 0);
  }

  /** The lowest `queuedTotal` of a value not stored yet (waiting, ahead or being written). */
  private unstoredFrom(): number {
    const oldest = this.waiting.values().next();
    return Math.min(
      oldest.done ? this.queuedTotal : oldest.value.firstSeq,
      this.pending?.firstSeq ?? Infinity,
      this.ahead?.batch.firstSeq ?? Infinity,
    );
  }

  private async writePending(ahead?: Ahead): Promise<void> {
    const batch = this.pending as Taken;
    // A batch ahead: timed from here, not from when it queued behind the one before.
    const started = performance.now();
    try {
      const inserted = await (ahead ? ahead.outcome : this.store.write(batch));
      const ms = performance.now() - started;
      this.counts.flushes++;
      this.counts.written += inserted;
      this.counts.duplicates += batch.ts.length - inserted;
      this.counts.lastFlushMs = Math.round(ms * 10) / 10;
      this.counts.maxFlushMs = Math.max(this.counts.maxFlushMs, this.counts.lastFlushMs);
      this.done();
    } catch (error) {
      this.counts.failures++;
      this.failureLog.report(
        'write',
        `history write of ${batch.ts.length} values failed: ${String(error)}`,
      );
      if (++this.attempts >= MAX_ATTEMPTS) {
        this.counts.writeFailed += batch.ts.length;
        this.done();
        return;
      }
      // The interval retries; back off so a store that is down is not hammered.
      this.retryAt = Date.now() + Math.min(MAX_BACKOFF_MS, 100 * 2 ** this.attempts);
    }
  }

  /** The batch is stored (or given up): the journal may drop what only it covered. */
  private done(): void {
    this.pending = null;
    this.attempts = 0;
    this.journal.release(this.unstoredFrom());
  }

  private schedulePrune(delay: number): void {
    if (this.stopped) return;
    this.pruneTimer = setTimeout(() => void this.prune(), delay);
    this.pruneTimer.unref();
  }

  /** One bounded retention pass; runs again soon while there is more to delete. */
  async prune(now = Date.now()): Promise<number> {
    const cutoffs: RetentionCutoffs = {
      raw: now - this.config.RETENTION_RAW,
      '1m': now - this.config.RETENTION_1M,
      '1h': now - this.config.RETENTION_1H,
    };
    let deleted = 0;
    try {
      deleted = await this.store.prune(cutoffs, PRUNE_BUDGET);
      this.counts.pruned += deleted;
    } catch (error) {
      this.failureLog.report('prune', `history retention pass failed: ${String(error)}`);
    }
    this.schedulePrune(deleted >= PRUNE_BUDGET ? PRUNE_AGAIN_MS : PRUNE_EVERY_MS);
    return deleted;
  }

  /** After the ingest stopped (beforeApplicationShutdown): write everything left, then close. */
  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.flushTimer);
    clearTimeout(this.pruneTimer);
    for (
      let guard = 0;
      guard < 10_000 && (this.pending || this.ahead || this.waitingValues > 0);
      guard++
    ) {
      await this.flush();
      if (this.attempts > 0) break; // the store is failing: do not hold the shutdown
    }
    await this.writing;
    this.release();
    // A flush chained (setImmediate) before the shutdown began, or a message the release above
    // let through, finds the store closed: what it would write is not written (never an error).
    this.closed = true;
    // A store that failed keeps its journal: the next start writes it.
    this.journal.close(!this.pending && !this.ahead && this.waitingValues === 0);
    try {
      await this.store.close();
    } finally {
      this.failureLog.close();
    }
  }

  stats(): HistoryStoreStats {
    const c = this.counts;
    return {
      kind: this.store.kind,
      queued: this.queuedValues(),
      queueLimit: this.config.HISTORY_QUEUE_MAX,
      written: c.written,
      duplicates: c.duplicates,
      dropped: { queueFull: c.queueFull, writeFailed: c.writeFailed },
      flushes: c.flushes,
      failures: c.failures,
      lastFlushMs: c.lastFlushMs,
      maxFlushMs: c.maxFlushMs,
      pruned: c.pruned,
      acksWithheld: c.acksWithheld,
      ...(this.store.rollups && { rollupFailures: this.store.rollups.failures }),
      journal: {
        ...this.journal.stats(),
        peerReplayed: c.peerReplayed,
        peerUnreadable: c.peerUnreadable,
      },
    };
  }
}
