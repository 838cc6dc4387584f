import { ALERT_LIMITS, AlertEvent, AlertQuery } from '@pulse/protocol';

/**
 * The record of what happened: owns the bounded ring of lifecycle events behind `history()`,
 * the listeners told of each event, and the event counters. Every event is copied on the
 * way in and on the way out, so no caller can change the engine's records. Must not decide
 * what an event says: it keeps and hands out what the lifecycle reports.
 */

export type AlertListener = (event: AlertEvent) => void;

export class AlertHistory {
  private readonly ring: AlertEvent[] = [];
  private ringNext = 0;
  private readonly listeners = new Set<AlertListener>();
  /** Events recorded since start. */
  events = 0;
  /** Listener calls that threw. */
  listenerErrors = 0;

  /** `maxHistory`: events kept for {@link query} (at least one). */
  constructor(private readonly maxHistory: number) {}

  /** Listen to lifecycle events; returns the unsubscribe function. Listeners must be quick. */
  onAlert(listener: AlertListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Events kept now. */
  get size(): number {
    return this.ring.length;
  }

  /** Keep a snapshot of `event`, tell every listener, and return a copy for the caller. */
  record(event: AlertEvent): AlertEvent {
    const snapshot = { ...event };
    this.events++;
    if (this.ring.length < this.maxHistory) this.ring.push(snapshot);
    else this.ring[this.ringNext] = snapshot;
    this.ringNext = (this.ringNext + 1) % this.maxHistory;
    for (const listener of this.listeners) {
      try {
        listener({ ...snapshot });
      } catch {
        // A listener's failure must not stop evaluation; counted in the engine's stats.
        this.listenerErrors++;
      }
    }
    return { ...snapshot };
  }

  /**
   * Boot: the events kept before a restart, oldest first, back in the ring as they were (not
   * events of this run: neither counted nor told to listeners).
   */
  restore(events: readonly AlertEvent[]): void {
    for (const event of events.slice(-this.maxHistory)) {
      if (this.ring.length < this.maxHistory) this.ring.push({ ...event });
      else this.ring[this.ringNext] = { ...event };
      this.ringNext = (this.ringNext + 1) % this.maxHistory;
    }
  }

  /**
   * Lifecycle events, newest `updatedAt` first (recorded order among equal times), filtered
   * (`AlertQuerySchema`, already validated) and by `keep` (a caller's group scope) before the
   * limit counts them. By time, not by the order they were recorded: a late reading (a session
   * drained after an outage) records an event stamped before ones recorded earlier, and a reader
   * paging with `to` (the oldest time of its last page, as the dashboard does) never saw it.
   */
  query(query: Partial<AlertQuery> = {}, keep?: (event: AlertEvent) => boolean): AlertEvent[] {
    const limit = Math.min(query.limit ?? 100, ALERT_LIMITS.maxQueryLimit);
    const from = query.from ?? -Infinity;
    const to = query.to ?? Infinity;
    const found: AlertEvent[] = [];
    let ordered = true;
    const size = this.ring.length;
    for (let n = 0; n < size; n++) {
      const event = this.ring[(this.ringNext - 1 - n + size) % size];
      if (query.deviceId !== undefined && event.deviceId !== query.deviceId) continue;
      if (query.ruleId !== undefined && event.ruleId !== query.ruleId) continue;
      if (query.severity !== undefined && event.severity !== query.severity) continue;
      if (query.state !== undefined && event.state !== query.state) continue;
      if (event.updatedAt < from || event.updatedAt > to) continue;
      if (keep && !keep(event)) continue;
      if (found.length > 0 && event.updatedAt > found[found.length - 1].updatedAt) ordered = false;
      found.push(event);
    }
    // The whole ring is read (at most maxHistory, 10,000: well under a millisecond): an event
    // newer than those found may sit past any point. Sorted only when out of order; stable, so
    // events of one time stay newest recorded first.
    if (!ordered) found.sort((x, y) => y.updatedAt - x.updatedAt);
    return found.slice(0, limit).map((event) => ({ ...event }));
  }
}
