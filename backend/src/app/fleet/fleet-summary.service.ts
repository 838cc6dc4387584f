import { Inject, Injectable, Logger, OnApplicationBootstrap, Optional } from '@nestjs/common';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { HISTORY_STORE, HistoryStore } from '../history/history-store';
import { FleetSummaryModel } from './fleet-summary';

/**
 * Devices whose latest values one store call reads at boot: the SQLite worker answers the
 * history writer's calls after it, and the event loop applies one answer at a time, so neither
 * waits for a whole fleet (10,000 devices: 10 calls).
 */
export const SEED_CHUNK = 1_000;

/**
 * How long the boot waits for the seed before the gateway listens anyway: a store that hangs
 * instead of failing (a PostgreSQL behind a dropped route) must not keep the gateway from
 * starting. The seed goes on; what it reads later is in every snapshot taken after.
 */
export const SEED_WAIT_MS = 5_000;

/**
 * The gateway's one fleet summary (see {@link FleetSummaryModel}), wired to the registry: an
 * evicted or removed device becomes a removal. Fed by the live hub with everything published to the live
 * layer (readings, device and alert events: the alert engine keeps its state in memory and
 * publishes every change, restored ones included). At boot it starts from the history store
 * ({@link seed}): each known device's latest stored value per metric, so the overview, its
 * sorting and the walls show a device's values after a restart before it speaks again
 * (docs/decisions/0057-summary-from-the-store.md). Read by the live layer's SummaryPush, the
 * `/live` subscribe ack and `GET /api/fleet/summary`. Must not depend on what feeds the hub
 * (alerts, ingest): they depend on the hub, which depends on this.
 */
@Injectable()
export class FleetSummaryService extends FleetSummaryModel implements OnApplicationBootstrap {
  private readonly logger = new Logger('FleetSummary');

  constructor(
    private readonly registry: DeviceRegistryService,
    /** Absent in unit specs of the summary alone: nothing to start from. */
    @Optional() @Inject(HISTORY_STORE) private readonly store: HistoryStore | null = null,
  ) {
    super(registry);
    registry.onGone((deviceId, why) => this.remove(deviceId, why === 'removed'));
  }

  /**
   * Awaited by Nest before the HTTP server (and with it Socket.IO) listens, once every store is
   * open, the registry loaded and the history journal written: nobody takes a snapshot without
   * the stored values (for at most SEED_WAIT_MS). The ingest may start meanwhile (PulseRuntime): a reading it brings is
   * newer than what is stored and wins (applyStored).
   */
  async onApplicationBootstrap(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const waited = await Promise.race([
      this.seed().then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), SEED_WAIT_MS))),
    ]);
    clearTimeout(timer);
    if (!waited)
      this.logger.warn(
        `latest values still being read from the history store after ${SEED_WAIT_MS / 1000} s: starting without them; devices show them once read, or as they report`,
      );
  }

  /**
   * Every known device's latest stored value per metric, SEED_CHUNK devices per store call. A
   * store that cannot be read leaves the summary to the live readings, as before (logged): the
   * gateway still starts.
   */
  async seed(): Promise<{ devices: number; values: number; ms: number } | null> {
    if (!this.store) return null;
    const started = performance.now();
    const ids = this.registry.list().map((device) => device.deviceId);
    let values = 0;
    try {
      for (let from = 0; from < ids.length; from += SEED_CHUNK) {
        const chunk = ids.slice(from, from + SEED_CHUNK);
        const rows = await this.store.latestOf(chunk);
        for (let i = 0; i < rows.ts.length; i++)
          this.applyStored(chunk[rows.device[i]], rows.metrics[i], rows.values[i], rows.ts[i]);
        values += rows.ts.length;
      }
    } catch (error) {
      this.logger.warn(
        `latest values not read from the history store (${(error as Error).message}): devices show values again as they report`,
      );
      return null;
    }
    const ms = Math.round(performance.now() - started);
    if (ids.length > 0)
      this.logger.log(
        `${values} latest values of ${ids.length} devices from the store in ${ms} ms`,
      );
    return { devices: ids.length, values, ms };
  }
}
