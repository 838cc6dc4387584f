import type { AlertEvent } from '@pulse/protocol';

/** Peers' open alerts kept at most; beyond, new ones are not kept (counted in `refused`). */
export const PEER_ALERTS_MAX = 50_000;

/**
 * The open alerts other gateways hold (several gateways, decisions 0027 and 0029), for the
 * `alerts` snapshot a new client gets: each gateway's engine knows only the devices it owns, so a
 * wall that connects here must also be told what the peers have open. Kept up to date by the
 * peers' alert events in the order this gateway's clients receive them (so a snapshot and the
 * events after it never disagree), seeded at start from the shared store's open list (events
 * seen while that read ran win over it). An event of this gateway's own engine removes the alert
 * here: it holds it now. Owns that map; must not send anything (LiveEmitter does).
 */
export class PeerAlerts {
  private readonly open = new Map<string, AlertEvent>();
  /** Alerts an event touched while the seed was being read (null: not seeding). */
  private touched: Set<string> | null = null;
  refused = 0;

  /** A peer's event: kept while the alert is open, dropped once it closed. */
  peer(alert: AlertEvent): void {
    this.touched?.add(alert.id);
    if (!alert.active) {
      this.open.delete(alert.id);
      return;
    }
    if (!this.open.has(alert.id) && this.open.size >= PEER_ALERTS_MAX) {
      this.refused++;
      return;
    }
    this.open.set(alert.id, alert);
  }

  /** This gateway's engine spoke of the alert: it is ours now (taken over, or never a peer's). */
  local(alert: AlertEvent): void {
    this.touched?.add(alert.id);
    this.open.delete(alert.id);
  }

  /** The seed's read starts: events from now on are newer than what it will return. */
  beginSeed(): void {
    this.touched = new Set();
  }

  /**
   * The shared store's open alerts, minus those an event has spoken of since beginSeed; returns
   * those it took.
   */
  seed(alerts: readonly AlertEvent[]): AlertEvent[] {
    const touched = this.touched ?? new Set<string>();
    this.touched = null;
    const taken: AlertEvent[] = [];
    for (const alert of alerts)
      if (alert.active && !touched.has(alert.id)) {
        this.peer(alert);
        taken.push(alert);
      }
    return taken;
  }

  /** `local` (this gateway's open alerts) and the peers' that are not among them. */
  with(local: readonly AlertEvent[]): AlertEvent[] {
    if (this.open.size === 0) return local as AlertEvent[];
    const ids = new Set(local.map((a) => a.id));
    const out = [...local];
    for (const alert of this.open.values()) if (!ids.has(alert.id)) out.push(alert);
    return out;
  }

  /** A peer's open alert, as its last event told. */
  get(id: string): AlertEvent | undefined {
    return this.open.get(id);
  }

  get size(): number {
    return this.open.size;
  }
}

/** After a flush of held events, sent once more this much later (a peer subscribing again late). */
export const HELD_ALERTS_RESEND_MS = 3_000;

/**
 * This gateway's alert events the peers could not be told (Redis unreachable, or before the
 * `/live` namespace is bound): the newest event of each alert, in the order they last changed,
 * at most PEER_ALERTS_MAX alerts (a peer keeps no more); beyond, an alert's events are not held
 * (counted in `unsent`). An alert's state is whole in each event, so the newest is all a peer
 * needs: what Redis would have queued is bounded by the alerts, not the outage's length.
 *
 * After a flush the same alerts are due once more: when Redis itself restarted, a peer's
 * subscribing connection may be back a little after this gateway's publishing one and miss the
 * first sending. A resend not made (Redis away again) stays due and goes with the next flush; an
 * event sent live meanwhile replaces the due one (the newest goes again). Once a peer speaks of
 * an alert it holds it now (a hand-over keeps the id): this gateway's older state of it is
 * dropped, held or due, so it never lands after the new holder's.
 * Owns the two maps; must not send anything (LiveEmitter does).
 */
export class HeldAlerts {
  private held = new Map<string, AlertEvent>();
  /** Alerts flushed and due to be sent once more; null: none. */
  private again: Map<string, AlertEvent> | null = null;
  unsent = 0;

  /** Keep `alert` until {@link take}: it replaces the alert's earlier event. */
  hold(alert: AlertEvent): void {
    if (!this.held.has(alert.id) && this.held.size >= PEER_ALERTS_MAX) {
      this.unsent++;
      return;
    }
    this.held.delete(alert.id); // moved to the end: the order they last changed in
    this.held.set(alert.id, alert);
    this.again?.delete(alert.id); // the held event is newer: it goes with the next flush
  }

  /** `alert` went out live: a resend, if one is due, carries it (it is the newest). */
  sent(alert: AlertEvent): void {
    if (this.again?.has(alert.id)) this.again.set(alert.id, alert);
  }

  /** A peer spoke of the alert: it holds it now, and this gateway's state of it is older. */
  forget(id: string): void {
    this.held.delete(id);
    this.again?.delete(id);
  }

  /**
   * What to send now: the resend still due, then every held event (oldest change first). All
   * of it becomes the next resend.
   */
  take(): AlertEvent[] {
    const out = this.again ?? new Map<string, AlertEvent>();
    for (const [id, alert] of this.held) {
      out.delete(id);
      out.set(id, alert);
    }
    this.held = new Map();
    this.again = out.size > 0 ? out : null;
    return [...out.values()];
  }

  /** The resend of the last flush (each alert's newest event), once. */
  takeAgain(): AlertEvent[] {
    const events = this.again ? [...this.again.values()] : [];
    this.again = null;
    return events;
  }

  get size(): number {
    return this.held.size;
  }
}
