import { DS, decodeFleetSummary, decodeSummaryEvent } from '@pulse/protocol/core';
import type { DeviceStore } from '../stores/device.store';

/*
 * The fleet summary as this browser follows it: the gateway's metric table (values arrive as
 * indices into it), which devices the summary holds (so a new snapshot after a reconnect drops
 * the ones evicted meanwhile), and reading what arrives from the wire (the protocol's compact
 * form, decoded and checked by `decodeFleetSummary` / `decodeSummaryEvent`). Applies snapshots
 * and deltas to the DeviceStore; owned by LiveService. It must not touch the socket, timers or
 * signals (the store bumps its own).
 */

export class SummaryFeed {
  private metrics: string[] = [];
  private held = new Set<string>();
  private following = false;

  constructor(private readonly store: DeviceStore) {}

  /** A snapshot arrived (the subscribe acknowledgement): the summary's devices replace the held ones. */
  snapshot(wire: unknown): void {
    const summary = decodeFleetSummary(wire);
    if (!summary) return;
    this.metrics = summary.metrics;
    const entries = summary.devices;
    const next = new Set(entries.map((entry) => entry[DS.id]));
    this.store.remove([...this.held].filter((id) => !next.has(id)));
    this.held = next;
    this.store.applySummary(entries, this.metrics, summary.at);
    this.following = true;
  }

  /** A `summary` event: `removed` first, then `changed` (a device can be in both). */
  delta(wire: unknown): void {
    if (!this.following) return;
    const event = decodeSummaryEvent(wire);
    if (!event) return;
    if (event.metrics) this.metrics = event.metrics;
    for (const id of event.removed) this.held.delete(id);
    this.store.remove(event.removed);
    for (const entry of event.changed) this.held.add(entry[DS.id]);
    this.store.applySummary(event.changed, this.metrics, event.at);
  }

  /** Not subscribed any more (or the connection dropped): deltas are ignored until the next snapshot. */
  pause(): void {
    this.following = false;
  }
}
