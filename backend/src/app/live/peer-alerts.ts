import { ALERT_EVENT_KEYS, type AlertEvent } from '@pulse/protocol';

/** Peers' open alerts kept at most; beyond, new ones are not kept (counted in `refused`). */
export const PEER_ALERTS_MAX = 50_000;

/** After a flush of held events, sent once more this much later (a peer subscribing again late). */
export const HELD_ALERTS_RESEND_MS = 3_000;

/**
 * A peer's closed alert is remembered this long after its event was last heard (at most
 * PEER_ALERTS_MAX of them), so the resend of that event is known for a repeat: a flush within the
 * resend time of the last sends the due events again, each within HELD_ALERTS_RESEND_MS of the
 * one before.
 */
export const PEER_CLOSED_REPEAT_MS = 4 * HELD_ALERTS_RESEND_MS;

/**
 * The two events say the same of the alert: every field equal (each is a primitive). An event
 * carries the alert's whole state and nothing of its sending (the `v` of a change is each
 * gateway's own, added as it goes to clients).
 */
export function sameAlertState(a: AlertEvent, b: AlertEvent): boolean {
  for (const field of ALERT_EVENT_KEYS) if (a[field] !== b[field]) return false;
  return true;
}

/**
 * The open alerts other gateways hold (several gateways, decisions 0027 and 0029), for the
 * `alerts` snapshot a new client gets: each gateway's engine knows only the devices it owns, so a
 * wall that connects here must also be told what the peers have open. Kept up to date by the
 * peers' alert events in the order this gateway's clients receive them (so a snapshot and the
 * events after it never disagree), seeded at start from the shared store's open list (events
 * seen while that read ran win over it). An event of this gateway's own engine removes the alert
 * here: it holds it now.
 *
 * A peer's event that says what this gateway already holds of the alert (its open state, or the
 * last event of one that closed lately) is a repeat: after a Redis outage the peer sends its held
 * events twice (see {@link HeldAlerts}), and passed on each would reach every dashboard twice and
 * move the active list's version for nothing. {@link peer} says so and counts it (`repeats`).
 * Owns those maps; must not send anything (LiveEmitter does).
 */
export class PeerAlerts {
  private readonly open = new Map<string, AlertEvent>();
  /** Peers' alerts closed lately: their last event and when it was last heard, oldest first. */
  private readonly closed = new Map<string, { alert: AlertEvent; at: number }>();
  /** Alerts an event touched while the seed was being read (null: not seeding). */
  private touched: Set<string> | null = null;
  refused = 0;
  repeats = 0;

  /**
   * A peer's event: kept while the alert is open, dropped once it closed. Returns false when it
   * is a repeat of what is held (nothing to tell clients), true when it is news.
   */
  peer(alert: AlertEvent, now = Date.now()): boolean {
    this.touched?.add(alert.id);
    this.forgetClosed(now);
    const known = this.open.get(alert.id) ?? this.closed.get(alert.id)?.alert;
    if (known && sameAlertState(known, alert)) {
      this.repeats++;
      if (!alert.active) this.rememberClosed(alert, now); // its next repeat may follow
      return false;
    }
    if (!alert.active) {
      this.open.delete(alert.id);
      this.rememberClosed(alert, now);
      return true;
    }
    this.closed.delete(alert.id);
    if (!this.open.has(alert.id) && this.open.size >= PEER_ALERTS_MAX) {
      this.refused++;
      return true;
    }
    this.open.set(alert.id, alert);
    return true;
  }

  /** This gateway's engine spoke of the alert: it is ours now (taken over, or never a peer's). */
  local(alert: AlertEvent): void {
    this.touched?.add(alert.id);
    this.open.delete(alert.id);
    this.closed.delete(alert.id);
  }

  private rememberClosed(alert: AlertEvent, now: number): void {
    this.closed.delete(alert.id); // to the end: the order they were last heard in
    if (this.closed.size >= PEER_ALERTS_MAX) {
      const oldest = this.closed.keys().next();
      if (!oldest.done) this.closed.delete(oldest.value);
    }
    this.closed.set(alert.id, { alert, at: now });
  }

  /** The closed alerts not heard for PEER_CLOSED_REPEAT_MS (oldest first). */
  private forgetClosed(now: number): void {
    for (const [id, { at }] of this.closed) {
      if (now - at < PEER_CLOSED_REPEAT_MS) return;
      this.closed.delete(id);
    }
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
 * dropped, held or due, so it never lands after the new holder's; a peer's event older than the
 * state held here (the old holder's resend, after this gateway took the alert over) drops
 * nothing.
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

  /**
   * A peer spoke of the alert: it holds it now, and this gateway's state of it is older, unless
   * the peer's event is older than that state (a resend, or a first sending delayed by an outage,
   * of an event from before this gateway took the alert over): that one drops nothing here.
   * Older by how far the alert got ({@link compareProgress}), then by `updatedAt`.
   * Returns whether it is older than what is held or due here (stale: not for this gateway's
   * screens either, which were told the newer state).
   */
  forget(peer: AlertEvent): boolean {
    const held = isNewer(this.held.get(peer.id), peer);
    const due = isNewer(this.again?.get(peer.id), peer);
    if (!held) this.held.delete(peer.id);
    if (!due) this.again?.delete(peer.id);
    return held || due;
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

/** `mine` (this gateway's held or due event) is of a later change than the peer's event. */
function isNewer(mine: AlertEvent | undefined, peer: AlertEvent): boolean {
  return mine !== undefined && compareProgress(mine, peer) > 0;
}

/**
 * How far an alert got, as a sort order of two of its events (> 0: `a` is later). An alert's
 * `updatedAt` mixes two clocks (an acknowledgement takes the server's, a raise, a clear or a
 * flapping alert settling its reading's time), so a later change can carry a smaller one. Its
 * life (alerts/alert-lifecycle.ts) only goes one way in each of these, so they decide first:
 * closed is the end (an id never reopens in one engine), `count` grows with each raise again,
 * and within one raise an acknowledgement, a clear and a flapping alert settling are never
 * undone (flapping is set only as an alert opens or is raised again; a raise again resets the
 * clear and counts). `updatedAt` decides only between events as far along (a retirement's
 * reason). Two gateways that changed one alert while apart (a hand-over during an outage) are
 * not ordered by this: the one further along wins on every gateway, whatever the other did.
 */
function compareProgress(a: AlertEvent, b: AlertEvent): number {
  return (
    Number(!a.active) - Number(!b.active) ||
    a.count - b.count ||
    Number(a.acknowledgedAt !== null) - Number(b.acknowledgedAt !== null) ||
    Number(a.clearedAt !== null) - Number(b.clearedAt !== null) ||
    Number(!a.flapping) - Number(!b.flapping) ||
    a.updatedAt - b.updatedAt
  );
}
