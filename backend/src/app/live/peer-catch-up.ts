import { Inject, Injectable } from '@nestjs/common';
import type { Reading } from '@pulse/protocol';
import { CONFIG, Config } from '../config/config';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { HistoryService, storeLagMs } from '../history/history.service';
import { ReadingFold } from '../history/reading-fold';
import { FLUSH_AT_READINGS } from './live-hub.service';
import { devicesOfRoom, INTEREST_REPEAT_MS } from './room-interest';

/**
 * Readings one catch-up sends at most: FLUSH_AT_READINGS, so that with what the hub may already
 * hold for the room (flushed at that many) the room's buffer stays under ROOM_BUFFER_LIMIT and
 * nothing pending is pushed out. A catch-up cut there is counted.
 */
export const CATCH_UP_MAX_READINGS = FLUSH_AT_READINGS;
/**
 * Readings (and devices looked at) all catch-ups may take per second together; a catch-up asked
 * beyond it is skipped and counted (a screen that keeps re-joining a room must not keep every
 * other gateway scanning its window).
 */
export const CATCH_UP_BUDGET_PER_S = 50_000;

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
 *   its window holds of the room's devices from the last storeLagMs + INTEREST_REPEAT_MS + 1 s (a
 *   lost `add` is made up by the next whole list; a second for the gateways' clocks and loops),
 *   then what it received in that span with an older ts, once, to that peer only. The peer's
 *   snapshot took the store up to its lag and its own window after it; what this gateway ingested
 *   in that span arrives right after, and what it ingests from then on is relayed as usual (it
 *   knows the room is watched before it answers).
 *
 * A reading may reach a screen twice (in its snapshot and in a catch-up): clients keep one per ts.
 * Owns which readings make a catch-up and which relayed readings are remembered; must not touch
 * Redis or sockets (CrossGatewayFanOut does).
 */
@Injectable()
export class PeerCatchUp {
  private readonly spanMs: number;
  private readonly counts = { capped: 0, skipped: 0, remembered: 0 };
  private budget = CATCH_UP_BUDGET_PER_S;
  private budgetAt = 0;

  constructor(
    @Inject(CONFIG) config: Pick<Config, 'HISTORY_FLUSH_MS'>,
    private readonly history: HistoryService,
    private readonly registry: DeviceRegistryService,
  ) {
    this.spanMs = storeLagMs(config) + INTEREST_REPEAT_MS + 1_000;
  }

  /** A peer's relayed batch: kept in the window for the devices this gateway knows. */
  remember(batch: readonly Reading[]): void {
    let start = 0;
    // Batches come grouped by device in ingest order: one call per run of a device.
    for (let i = 1; i <= batch.length; i++) {
      if (i < batch.length && batch[i].deviceId === batch[start].deviceId) continue;
      const deviceId = batch[start].deviceId;
      if (this.registry.has(deviceId)) {
        this.history.remember(deviceId, batch.slice(start, i));
        this.counts.remembered += i - start;
      }
      start = i;
    }
  }

  /**
   * What this gateway's window holds of `room`'s devices for a peer: first every device's last
   * span, then what came in during it with an older ts, at most CATCH_UP_MAX_READINGS (a device
   * that does not fit whole keeps its newest). Empty when the budget of this second is spent.
   */
  catchUp(room: string, now = Date.now()): Reading[] {
    if (now - this.budgetAt >= 1000) {
      this.budget = CATCH_UP_BUDGET_PER_S;
      this.budgetAt = now;
    }
    if (this.budget <= 0) {
      this.counts.skipped++;
      return [];
    }
    const since = now - this.spanMs;
    const devices = [...devicesOfRoom(room, this.registry, () => this.history.deviceIds())];
    const out: Reading[] = [];
    const late: Reading[] = [];
    let capped = false;
    for (const deviceId of devices) {
      const { recent, older } = this.readingsOf(deviceId, since);
      const left = CATCH_UP_MAX_READINGS - out.length;
      if (recent.length > left) capped = true;
      for (let i = Math.max(0, recent.length - left); i < recent.length; i++) out.push(recent[i]);
      for (const reading of older) late.push(reading);
      if (capped) break;
    }
    const left = CATCH_UP_MAX_READINGS - out.length;
    if (late.length > left) capped = true;
    for (let i = 0; i < Math.min(left, late.length); i++) out.push(late[late.length - 1 - i]);
    if (capped) this.counts.capped++;
    this.budget -= out.length + devices.length;
    return out;
  }

  /** Catch-ups cut at the cap, skipped over the budget; relayed readings kept in the window. */
  stats(): { capped: number; skipped: number; remembered: number } {
    return { ...this.counts };
  }

  /** A device's readings in the window from `since` on, and those before it received lately. */
  private readingsOf(deviceId: string, since: number): { recent: Reading[]; older: Reading[] } {
    const fold = new ReadingFold();
    for (const metric of this.history.metricsOf(deviceId)) {
      const from = Math.min(since, this.history.receivedLow(deviceId, metric));
      const [series] = this.history.query(deviceId, from, Infinity, Infinity, [metric]);
      if (!series) continue;
      for (let i = 0; i < series.t.length; i++)
        fold.add(deviceId, series.t[i], series.metric, series.v[i]);
    }
    const recent: Reading[] = [];
    const older: Reading[] = [];
    for (const reading of fold.readingsOf(deviceId))
      (reading.ts >= since ? recent : older).push(reading);
    return { recent, older };
  }
}
