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
