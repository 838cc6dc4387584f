import { Inject, Injectable } from '@nestjs/common';
import { FLEET_ROOM, Reading } from '@pulse/protocol';
import { CONFIG, Config } from '../config/config';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { HistoryService, storeLagMs } from '../history/history.service';

/** Readings one catch-up sends at most (a device that does not fit whole keeps its newest); a catch-up cut there is counted. */
export const CATCH_UP_MAX_READINGS = 10_000;

/**
 * Several gateways sharing the ingest (`$share`): each one's recent window holds only the share of
 * a device's readings the broker handed it, and the store holds everyone's only up to its lag
 * (storeLagMs). Two things keep a screen's history whole on any gateway (decision 0027, session 13
 * addendum):
 *
 * - **remember**: the readings a peer relays for a room this gateway's screens watch go into this
 *   gateway's window too (not its store: the peer stores them), so a screen that joins a watched
 *   room later finds the peers' recent share here;
 * - **catch-up**: when a peer's screens start watching a room, this gateway sends that peer what
 *   its window holds of the room's devices from the last storeLagMs + 1 s (by ts, and whatever
 *   it received in that span with an older ts), once, to that peer
 *   only. The peer's snapshot took the store up to its lag and its own window after it; what this
 *   gateway ingested in that span arrives right after, and what it ingests from then on is relayed
 *   as usual (it knows the room is watched before it answers).
 *
 * A reading may reach a screen twice (in its snapshot and in a catch-up): clients keep one per ts.
 * Owns which readings make a catch-up and which relayed readings are remembered; must not touch
 * Redis or sockets (CrossGatewayFanOut does).
 */
@Injectable()
export class PeerCatchUp {
  private readonly spanMs: number;
  private readonly counts = { catchUps: 0, readings: 0, capped: 0, remembered: 0 };

  constructor(
    @Inject(CONFIG) config: Pick<Config, 'HISTORY_FLUSH_MS'>,
    private readonly history: HistoryService,
    private readonly registry: DeviceRegistryService,
  ) {
    this.spanMs = storeLagMs(config) + 1_000;
  }

  /** A peer's relayed batch: kept in the window for the devices this gateway knows. */
  remember(batch: readonly Reading[]): void {
    let start = 0;
    // Batches come grouped by device in ingest order: one call per run of a device.
    for (let i = 1; i <= batch.length; i++) {
      if (i < batch.length && batch[i].deviceId === batch[start].deviceId) continue;
      const deviceId = batch[start].deviceId;
      if (this.registry.get(deviceId) !== null) {
        this.history.remember(deviceId, batch.slice(start, i));
        this.counts.remembered += i - start;
      }
      start = i;
    }
  }

  /** What this gateway's window holds of `room`'s devices from the last span, for a peer. */
  catchUp(room: string, now = Date.now()): Reading[] {
    const since = now - this.spanMs;
    const out: Reading[] = [];
    for (const deviceId of this.devicesOf(room)) {
      const byTs = new Map<number, Record<string, number>>();
      for (const metric of this.history.metricsOf(deviceId)) {
        // And what came in that span with an older ts (a device's late readings).
        const from = Math.min(since, this.history.receivedLow(deviceId, metric));
        const [series] = this.history.query(deviceId, from, Infinity, Infinity, [metric]);
        if (!series) continue;
        for (let i = 0; i < series.t.length; i++) {
          let values = byTs.get(series.t[i]);
          if (!values) byTs.set(series.t[i], (values = {}));
          values[series.metric] = series.v[i];
        }
      }
      const times = [...byTs.keys()].sort((a, b) => a - b);
      const left = CATCH_UP_MAX_READINGS - out.length;
      // The newest of the device if not all fit: a chart continues from its live edge.
      for (const ts of times.slice(Math.max(0, times.length - left)))
        out.push({ deviceId, ts, values: byTs.get(ts) as Record<string, number> });
      if (times.length >= left) {
        this.counts.capped++;
        break;
      }
    }
    if (out.length > 0) {
      this.counts.catchUps++;
      this.counts.readings += out.length;
    }
    return out;
  }

  stats(): { catchUps: number; readings: number; capped: number; remembered: number } {
    return { ...this.counts };
  }

  private devicesOf(room: string): Iterable<string> {
    if (room === FLEET_ROOM) return this.history.deviceIds();
    if (room.startsWith('group:'))
      return this.registry.inGroup(room.slice('group:'.length)).map((d) => d.deviceId);
    if (room.startsWith('device:')) return [room.slice('device:'.length)];
    return [];
  }
}
