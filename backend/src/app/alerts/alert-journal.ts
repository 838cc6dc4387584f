import type { AlertEvent } from '@pulse/protocol';
import { AlertStore } from './alert-store';

/**
 * Writes the alert lifecycle to the {@link AlertStore} off the hot path: every event the engine
 * reports is noted (an array push and a map set), and {@link flush} writes what was noted in one
 * transaction — the events to the history, the newest event of each alert to the active list
 * (or off it). The service flushes once a second, at once after an acknowledgement (an
 * operator's action must not be lost to a crash a second later) and at shutdown.
 *
 * Bounded while the store cannot keep up or is down: events waiting beyond the history bound
 * are dropped oldest first (the history keeps no more anyway); alerts waiting beyond
 * MAX_WAITING_ALERTS are dropped. Both counted in `dropped` and logged by the caller.
 * Owns what waits to be written; must not decide what an event says nor hold SQL.
 */

/** Alerts whose newest state waits to be written, at most (twice the engine's state bound). */
export const MAX_WAITING_ALERTS = 200_000;

export class AlertJournal {
  private events: AlertEvent[] = [];
  private readonly latest = new Map<string, AlertEvent>();
  /** Events or alert states given up while the store could not take them. */
  dropped = 0;
  /** The write under way, if any. */
  private writing: Promise<void> | null = null;

  constructor(
    private readonly store: AlertStore,
    private readonly keepHistory: number,
  ) {}

  /** An event the engine reported (already a copy nobody else changes). */
  note(event: AlertEvent): void {
    if (this.events.length >= this.keepHistory) {
      // Amortised: drop the older half at once rather than shift one by one.
      const drop = Math.max(1, this.keepHistory >> 1);
      this.events = this.events.slice(drop);
      this.dropped += drop;
    }
    this.events.push(event);
    if (this.latest.size >= MAX_WAITING_ALERTS && !this.latest.has(event.id)) {
      this.dropped++;
      return;
    }
    this.latest.set(event.id, event);
  }

  /** Whether anything waits to be written. */
  get pending(): boolean {
    return this.events.length > 0 || this.latest.size > 0;
  }

  /**
   * Write what waits in one transaction (one write at a time: a call while one is under way
   * waits for it and writes nothing). On failure what was taken waits again, behind nothing
   * newer, and the error is rethrown.
   */
  async flush(): Promise<void> {
    if (this.writing) return this.writing.then(() => undefined);
    if (!this.pending) return;
    const events = this.events;
    const latest = [...this.latest.values()];
    this.events = [];
    this.latest.clear();
    const write = (async () => {
      try {
        await this.store.saveEvents(events, latest, this.keepHistory);
      } catch (error) {
        this.putBack(events, latest);
        throw error;
      } finally {
        this.writing = null;
      }
    })();
    this.writing = write.catch(() => undefined);
    return write;
  }

  /** A failed write's events go back before those noted since; an alert's newer state wins. */
  private putBack(events: AlertEvent[], latest: AlertEvent[]): void {
    const all = events.concat(this.events);
    const keep = all.length > this.keepHistory ? all.slice(-this.keepHistory) : all;
    this.dropped += all.length - keep.length;
    this.events = keep;
    for (const event of latest) if (!this.latest.has(event.id)) this.latest.set(event.id, event);
  }
}
