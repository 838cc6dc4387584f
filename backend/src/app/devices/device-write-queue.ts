/**
 * Which device records wait to be written to the store, and in what order: devices whose
 * status, meta or metric names changed (or that are new) go first, devices that only spoke
 * (last seen, last reading time) after them, evicted ones as deletions. Each record is queued
 * once however often it changes before the write (a flag test on the hot path; the Set add
 * happens once per write interval at most), so the queue is bounded by the devices held.
 * Owns the queue only; must not read or write the store nor decide when to flush
 * (DeviceRegistryService does).
 */

/** Where a record is: 0 written, 1 waiting as seen, 2 waiting as changed. */
export type WriteState = 0 | 1 | 2;

export interface QueuedRecord {
  readonly deviceId: string;
  persist: WriteState;
}

export interface WriteBatch<R extends QueuedRecord> {
  records: R[];
  removed: string[];
}

export class DeviceWriteQueue<R extends QueuedRecord> {
  private readonly changed = new Set<R>();
  private readonly seen = new Set<R>();
  private readonly removed = new Set<string>();

  /** Only last seen / last reading time moved: the hot path. */
  seenNow(record: R): void {
    if (record.persist !== 0) return;
    record.persist = 1;
    this.seen.add(record);
  }

  /** Something a client shows changed, or the record is new. */
  changedNow(record: R): void {
    if (record.persist === 2) return;
    if (record.persist === 1) this.seen.delete(record);
    record.persist = 2;
    this.changed.add(record);
    // Evicted and back before the deletion was written: written again instead.
    this.removed.delete(record.deviceId);
  }

  /** The record left the registry (evicted): its row goes. */
  removedNow(record: R): void {
    this.changed.delete(record);
    this.seen.delete(record);
    record.persist = 0;
    this.removed.add(record.deviceId);
  }

  /** A stored row no record stands for (left out at boot): it goes. */
  removedId(deviceId: string): void {
    this.removed.add(deviceId);
  }

  get empty(): boolean {
    return this.changed.size === 0 && this.seen.size === 0 && this.removed.size === 0;
  }

  /**
   * Take up to `max` records (changed ones first, oldest first) and up to `max` deletions out
   * of the queue for a write: a record that changes while it is written is queued again.
   */
  take(max: number): WriteBatch<R> {
    const records: R[] = [];
    for (const queue of [this.changed, this.seen]) {
      for (const record of queue) {
        if (records.length >= max) break;
        records.push(record);
      }
    }
    for (const record of records) {
      if (record.persist === 2) this.changed.delete(record);
      else this.seen.delete(record);
      record.persist = 0;
    }
    const removed: string[] = [];
    for (const deviceId of this.removed) {
      if (removed.length >= max) break;
      removed.push(deviceId);
    }
    for (const deviceId of removed) this.removed.delete(deviceId);
    return { records, removed };
  }

  /**
   * The write of `batch` failed: its records that `current` still holds, as changed, and its
   * deletions of devices not `held` again, wait for the next one.
   */
  putBack(
    batch: WriteBatch<R>,
    current: (record: R) => boolean,
    held: (deviceId: string) => boolean,
  ): void {
    for (const record of batch.records) if (current(record)) this.changedNow(record);
    for (const deviceId of batch.removed) if (!held(deviceId)) this.removed.add(deviceId);
  }
}
