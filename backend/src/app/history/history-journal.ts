import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Reading } from '@pulse/protocol';
import type { WriteBatch } from './history-store';
import { JournalLock } from './journal-lock';
import { ReadingFold } from './reading-fold';

/*
 * The history writer's write-ahead journal: what a QoS 1 device was acknowledged for is on disk
 * before the acknowledgement goes out, so a gateway killed before its next flush (SIGKILL, OOM,
 * a crash) writes it at the next start instead of losing it. One line per message, appended with
 * one write(2) to a segment file under `${DATA_DIR}/history-journal/`; a new segment at each flush,
 * a segment deleted once every value queued before it ended is in the store. A write(2) that has
 * returned is in the kernel's page cache, which outlives the process (not a power cut: the store
 * itself syncs no more often, decision 0021).
 *
 * The folder is this process's alone while it runs (JournalLock, decision 0073): a second gateway
 * on the same DATA_DIR and GATEWAY_ID refuses to start before it reads anything here.
 *
 * Owns the segment files and their format; must not decide what is durable (the ingest passes
 * QoS 1 messages only) nor write to the store (the writer replays what `recover` returns).
 */

const SEGMENT = /^segment-(\d{12})\.jsonl$/;
const name = (n: number) => `segment-${String(n).padStart(12, '0')}.jsonl`;

interface Segment {
  n: number;
  /** Values the writer had queued when this segment was closed (Infinity: still open). */
  endsAt: number;
}

export interface JournalStats {
  segments: number;
  appended: number;
  /** Messages written to the store at start from the previous run's journal. */
  recovered: number;
  /** Lines of a previous run that could not be read (a torn last line), skipped. */
  unreadable: number;
}

export class HistoryJournal {
  private fd: number | null = null;
  private segments: Segment[] = [];
  private written = false;
  private lock: JournalLock | null = null;
  private readonly counts = { appended: 0, recovered: 0, unreadable: 0 };

  constructor(private readonly dir: string) {}

  /**
   * Take the folder for this process's life, before anything in it is read; a StartupError
   * naming the holder when another process has it. Idempotent.
   */
  hold(): void {
    if (this.lock) return;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.lock = JournalLock.take(this.dir);
  }

  /**
   * The previous run's journaled values (to write before anything new), then a fresh segment.
   * Its files stay until {@link release} says the values are stored.
   */
  recover(): WriteBatch {
    this.hold();
    const { batch, segments, messages, unreadable } = readJournal(this.dir);
    this.counts.recovered += messages;
    this.counts.unreadable += unreadable;
    // Written back before any new value is queued: released by the first release(0).
    for (const n of segments) this.segments.push({ n, endsAt: 0 });
    this.open((segments.at(-1) ?? 0) + 1);
    return batch;
  }

  /** Before the message's acknowledgement: its readings, on disk. */
  append(deviceId: string, readings: readonly Reading[]): void {
    if (this.fd === null) return;
    const compact = readings.map((r) => ({ ts: r.ts, values: r.values }));
    writeSync(this.fd, `${JSON.stringify([deviceId, compact])}\n`);
    this.written = true;
    this.counts.appended++;
  }

  /** The writer took a batch: a new segment from here, the current one ends at `queuedTotal`. */
  rotate(queuedTotal: number): void {
    if (this.fd === null || !this.written) return;
    const current = this.segments[this.segments.length - 1];
    current.endsAt = queuedTotal;
    closeSync(this.fd);
    this.fd = null;
    this.open(current.n + 1);
  }

  /** Every value queued before `storedTotal` is in the store (or given up): their segments go. */
  release(storedTotal: number): void {
    while (this.segments.length > 1 && this.segments[0].endsAt <= storedTotal) {
      const done = this.segments.shift() as Segment;
      unlinkSync(join(this.dir, name(done.n)));
    }
  }

  /**
   * At shutdown, after the last flush: no segment is needed any more once everything is stored.
   * The folder is let go last, whatever happened.
   */
  close(everythingStored: boolean): void {
    try {
      if (this.fd !== null) closeSync(this.fd);
      this.fd = null;
      if (!everythingStored) return;
      for (const segment of this.segments) unlinkSync(join(this.dir, name(segment.n)));
      this.segments = [];
    } finally {
      this.lock?.release();
      this.lock = null;
    }
  }

  /**
   * Let the folder go and leave everything else as it is, as a kill does (the kernel closes the
   * files and drops the lock): for specs that start the next run in the same process.
   */
  abandonAsIfKilled(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.lock?.release();
    this.lock = null;
  }

  stats(): JournalStats {
    return { segments: this.segments.length, ...this.counts };
  }

  private open(n: number): void {
    this.fd = openSync(join(this.dir, name(n)), 'a', 0o600);
    this.segments.push({ n, endsAt: Infinity });
    this.written = false;
  }
}

type Entry = [string, { ts: number; values: Record<string, number> }[]];

/**
 * A journal's values as readings, per device, ascending (one reading per ts with its metrics):
 * what a survivor that wrote a dead peer's journal passes on to its screens.
 */
export function readingsOfBatch(batch: WriteBatch): Map<string, Reading[]> {
  const fold = new ReadingFold();
  for (let i = 0; i < batch.ts.length; i++)
    fold.add(batch.deviceIds[i], batch.ts[i], batch.metrics[i], batch.values[i]);
  return fold.byDeviceId();
}

/**
 * Every value journaled in `dir`'s segments, oldest first; read only (this gateway's own journal
 * at start, or a dead peer's on a shared DATA_DIR: history-writer.service.ts).
 */
export function readJournal(dir: string): {
  batch: WriteBatch;
  segments: number[];
  messages: number;
  unreadable: number;
} {
  const batch: WriteBatch = { deviceIds: [], metrics: [], ts: [], values: [] };
  const segments = readdirSync(dir)
    .map((file) => SEGMENT.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  let messages = 0;
  let unreadable = 0;
  for (const n of segments) {
    let text: string;
    try {
      text = readFileSync(join(dir, name(n)), 'utf8');
    } catch {
      continue; // released (deleted) meanwhile: its values are stored
    }
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      const entry = parseLine(line);
      if (!entry) {
        unreadable++;
        continue;
      }
      messages++;
      const [deviceId, readings] = entry;
      for (const { ts, values } of readings)
        for (const metric in values) {
          batch.deviceIds.push(deviceId);
          batch.metrics.push(metric);
          batch.ts.push(ts);
          batch.values.push(values[metric]);
        }
    }
  }
  return { batch, segments, messages, unreadable };
}

/** One journal line, or null when torn or not what append wrote. */
function parseLine(line: string): Entry | null {
  try {
    const entry = JSON.parse(line) as unknown;
    if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1]))
      return null;
    for (const r of entry[1] as unknown[]) {
      const reading = r as { ts?: unknown; values?: unknown };
      if (typeof reading?.ts !== 'number' || typeof reading.values !== 'object' || !reading.values)
        return null;
    }
    return entry as Entry;
  } catch {
    return null;
  }
}
