import type { DeviceSummary, FleetSummary, SummaryEvent } from '@pulse/protocol/core';
import { DS } from '@pulse/protocol/core';
import type { DeviceStore } from '../stores/device.store';

/*
 * The fleet summary as this browser follows it: the gateway's metric table (values arrive as
 * indices into it), which devices the summary holds (so a new snapshot after a reconnect drops
 * the ones evicted meanwhile), and the checks on what arrives from the wire. Applies snapshots
 * and deltas to the DeviceStore; owned by LiveService. It must not touch the socket, timers or
 * signals (the store bumps its own).
 */

export class SummaryFeed {
  private metrics: string[] = [];
  private held = new Set<string>();
  private following = false;

  constructor(private readonly store: DeviceStore) {}

  /** A snapshot arrived (the subscribe acknowledgement): the summary's devices replace the held ones. */
  snapshot(summary: FleetSummary | undefined): void {
    if (!summary || !Array.isArray(summary.devices) || !Array.isArray(summary.metrics)) return;
    this.metrics = summary.metrics;
    const entries = summary.devices.filter(validEntry);
    const next = new Set(entries.map((entry) => entry[DS.id]));
    this.store.remove([...this.held].filter((id) => !next.has(id)));
    this.held = next;
    this.store.applySummary(entries, this.metrics, summary.at);
    this.following = true;
  }

  /** A `summary` event: `removed` first, then `changed` (a device can be in both). */
  delta(event: SummaryEvent): void {
    if (!this.following || !event || typeof event.at !== 'number') return;
    if (Array.isArray(event.metrics)) this.metrics = event.metrics;
    if (Array.isArray(event.removed)) {
      const removed = event.removed.filter((id) => typeof id === 'string');
      for (const id of removed) this.held.delete(id);
      this.store.remove(removed);
    }
    if (Array.isArray(event.changed)) {
      const entries = event.changed.filter(validEntry);
      for (const entry of entries) this.held.add(entry[DS.id]);
      this.store.applySummary(entries, this.metrics, event.at);
    }
  }

  /** Not subscribed any more (or the connection dropped): deltas are ignored until the next snapshot. */
  pause(): void {
    this.following = false;
  }
}

function validEntry(entry: DeviceSummary): boolean {
  return (
    Array.isArray(entry) && typeof entry[DS.id] === 'string' && Array.isArray(entry[DS.values])
  );
}
