import {
  Inject,
  Injectable,
  Logger,
  OnModuleDestroy,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { FLEET_ROOM } from '@pulse/protocol';
import { CONFIG, Config, sharesIngest } from '../config/config';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { HistoryReader } from '../history/history-reader.service';
import { HISTORY_STORE, HistoryStore } from '../history/history-store';
import { HistoryService, storeLagMs } from '../history/history.service';
import { ReadingFold } from '../history/reading-fold';
import { DeviceOwnership, HEARTBEAT_MS, LEASE_TTL_MS } from '../ownership/device-ownership.service';
import { LiveEmitter } from './live-emitter';
import { LiveHubService } from './live-hub.service';
import { devicesOfRoom, INTEREST_REPEAT_MS } from './room-interest';

/** Series (device × metric) one departure reads from the store at most; beyond it, counted. */
export const REFILL_MAX_SERIES = 2_000;
/**
 * Rows kept per series, the newest (the span is seconds: 2,000 rows is a device at 200 Hz), read
 * in at most REFILL_MAX_PAGES pages of this many.
 */
export const REFILL_MAX_ROWS = 2_000;
export const REFILL_MAX_PAGES = 5;
/**
 * A device this gateway has not heard of for this long before the span (no point in its window,
 * no `heardAt` in its registry, on this gateway's clock) is taken as silent and not read: the broker spreads every
 * device's messages over the gateways, so one that reports at all shows here too. Keeps a fleet
 * of quiet devices from spending the series budget; a device that reports less often than this
 * may miss its last reading on a screen (history keeps it).
 */
export const REFILL_SILENT_MS = 10 * 60_000;
/** Readings one departure hands to the screens at most; beyond it, counted. */
export const REFILL_MAX_READINGS = 50_000;

/** What the refill reads of the window and the registry (fakes in the unit spec). */
export type RefillWindow = Pick<HistoryService, 'metricsOf' | 'query' | 'remember'>;
export type RefillRegistry = Pick<
  DeviceRegistryService,
  'has' | 'get' | 'heardAt' | 'groupOf' | 'inGroup' | 'list'
>;

/**
 * Several gateways sharing the ingest: a peer that departs (SIGKILL, its lease lapsed; or a clean
 * stop) sends no more catch-ups (PeerCatchUp), and what it ingested and stored in its last
 * storeLagMs is in no survivor's window. A screen that moved here from it was answered without
 * that share (the window answers the last storeLagMs), and what the peer had flushed to it but
 * it had not yet read (a websocket's queue, a long-poll not yet made) went down with the peer.
 *
 * So on each departure this gateway reads that span back from the store for the devices its
 * screens watch (device rooms first, then groups, then the fleet), keeps in its window what the
 * window lacked, and hands those readings to its own rooms like a peer's relayed batch: clients
 * keep one point per ts and place a late one where it belongs. Charts opened on rooms nobody here
 * watched get that share from the store (HistoryReader.peerDeparted). The span reaches back a lease, a
 * heartbeat and a catch-up span before the departure was seen. What the peer acknowledged and
 * never stored comes from its journal (SessionDrain), what the broker held for it from its session.
 *
 * Owns the departure's store read and the choice of what to refill; must not send to sockets
 * (the hub flushes) nor decide membership (DeviceOwnership).
 */
@Injectable()
export class LostPeerRefill implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('LostPeerRefill');
  private readonly counts = { lostPeers: 0, readings: 0, capped: 0, failures: 0 };
  private readonly spanMs: number;
  /** When the second pass of a departure runs (see {@link departed}). */
  private readonly secondPassMs: number;
  /** One departure's refill after the other. */
  private queue: Promise<void> = Promise.resolve();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private closed = false;

  constructor(
    @Inject(CONFIG)
    private readonly config: Pick<Config, 'HISTORY_FLUSH_MS'> &
      Partial<Pick<Config, 'REDIS_URL' | 'MQTT_URL'>>,
    @Inject(HistoryService) private readonly window: RefillWindow,
    @Inject(DeviceRegistryService) private readonly registry: RefillRegistry,
    @Inject(LiveEmitter) private readonly rooms: Pick<LiveEmitter, 'readingsRooms'>,
    @Inject(LiveHubService) private readonly hub: Pick<LiveHubService, 'publishLocal'>,
    @Optional()
    @Inject(DeviceOwnership)
    private readonly ownership?: Pick<DeviceOwnership, 'enabled' | 'self' | 'onChange'>,
    @Optional() @Inject(HISTORY_STORE) private readonly store?: HistoryStore,
    /** Answers charts opened from now on with the departed share from the store. */
    @Optional()
    @Inject(HistoryReader)
    private readonly reader?: Pick<HistoryReader, 'peerDeparted'>,
  ) {
    this.spanMs = LEASE_TTL_MS + HEARTBEAT_MS + storeLagMs(config) + INTEREST_REPEAT_MS + 1_000;
    this.secondPassMs = storeLagMs(config) + 1_000;
  }

  onModuleInit(): void {
    const { ownership, store } = this;
    if (!ownership?.enabled || !store || !sharesIngest(this.config)) return;
    ownership.onChange((previous, current) => {
      const gone = previous.filter((m) => m !== ownership.self && !current.includes(m));
      if (gone.length > 0) void this.departed(gone, Date.now());
    });
  }

  onModuleDestroy(): void {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /**
   * Peers seen departing at `at`: one refill for them all, after any still running, and a second
   * pass over the same span a store lag later. A gateway that leaves cleanly gives its lease back
   * before its writer's last flush, and a reading may reach the store late: the second pass hands
   * what the first could not find yet (nothing twice: the first pass's readings are in the window).
   */
  departed(peers: readonly string[], at: number): Promise<void> {
    this.counts.lostPeers += peers.length;
    this.reader?.peerDeparted(at);
    const from = at - this.spanMs;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.enqueue(peers, from);
    }, this.secondPassMs);
    timer.unref();
    this.timers.add(timer);
    return this.enqueue(peers, from);
  }

  private enqueue(peers: readonly string[], from: number): Promise<void> {
    const store = this.store;
    if (!store || this.closed) return this.queue;
    this.queue = this.queue.then(() =>
      this.refill(store, from).catch((error: Error) => {
        this.counts.failures++;
        this.logger.warn(
          `the share of ${peers.join(', ')} not read back for the screens: ${error.message}`,
        );
      }),
    );
    return this.queue;
  }

  /** Resolves when the refills asked so far are done. */
  settled(): Promise<void> {
    return this.queue;
  }

  /** Departed peers refilled for, readings handed to the screens, refills cut short, failures. */
  stats(): {
    lostPeers: number;
    lostPeerReadings: number;
    lostPeerCapped: number;
    lostPeerFailures: number;
  } {
    const { lostPeers, readings, capped, failures } = this.counts;
    return {
      lostPeers,
      lostPeerReadings: readings,
      lostPeerCapped: capped,
      lostPeerFailures: failures,
    };
  }

  private async refill(store: HistoryStore, from: number): Promise<void> {
    let series = 0;
    let handed = 0;
    let capped = false;
    const since = from - REFILL_SILENT_MS;
    for (const deviceId of this.watchedDevices()) {
      if (series >= REFILL_MAX_SERIES || handed >= REFILL_MAX_READINGS) {
        capped = true;
        break;
      }
      let metrics = this.window.metricsOf(deviceId);
      if (metrics.length === 0) {
        if (this.heardAt(deviceId) < since) continue;
        series++; // a look-up in the store costs a series
        metrics = await store.metricsOf(deviceId);
      } else if (!this.heardSince(deviceId, metrics, since)) continue;
      const fold = new ReadingFold();
      for (const metric of metrics) {
        if (series >= REFILL_MAX_SERIES) {
          capped = true;
          break;
        }
        series++;
        const rows = await this.newestRows(store, deviceId, metric, from);
        if (rows.cut) capped = true;
        // Read after the await: what arrived meanwhile is not handed twice.
        const [held] = this.window.query(deviceId, from, Infinity, Infinity, [metric]);
        const have = new Set(held?.t ?? []);
        for (let i = 0; i < rows.ts.length; i++)
          if (!have.has(rows.ts[i])) fold.add(deviceId, rows.ts[i], metric, rows.values[i]);
      }
      let missing = fold.readingsOf(deviceId);
      if (handed + missing.length > REFILL_MAX_READINGS) {
        missing = missing.slice(missing.length - (REFILL_MAX_READINGS - handed));
        capped = true;
      }
      if (missing.length > 0) {
        if (this.registry.has(deviceId)) this.window.remember(deviceId, missing);
        this.hub.publishLocal(deviceId, this.registry.groupOf(deviceId), missing);
        handed += missing.length;
      }
    }
    this.counts.readings += handed;
    if (capped) this.counts.capped++;
    if (handed > 0)
      this.logger.log(
        `a gateway departed: ${handed} of its stored readings handed to this gateway's screens`,
      );
  }

  /**
   * When this gateway last heard of the device, on its clock (`lastSeen` of a device known from
   * shares is the peer's time); for one restored at boot and not heard since, its stored
   * `lastSeen` (a restart a minute before a departure must not skip the fleet it restored).
   */
  private heardAt(deviceId: string): number {
    const heard = this.registry.heardAt(deviceId);
    if (heard !== -Infinity) return heard ?? -Infinity;
    return this.registry.get(deviceId)?.lastSeen ?? -Infinity;
  }

  /** Whether the window holds a point of `deviceId` at or after `since`. */
  private heardSince(deviceId: string, metrics: readonly string[], since: number): boolean {
    return metrics.some(
      (metric) => this.window.query(deviceId, since, Infinity, 1, [metric])[0] !== undefined,
    );
  }

  /**
   * A series' rows from `from` on, the newest REFILL_MAX_ROWS of them, read oldest first in
   * pages (the store's order); `cut` when older rows were dropped or the pages ran out.
   */
  private async newestRows(
    store: HistoryStore,
    deviceId: string,
    metric: string,
    from: number,
  ): Promise<{ ts: number[]; values: number[]; cut: boolean }> {
    let ts: number[] = [];
    let values: number[] = [];
    let cut = false;
    for (let page = 0, start = from; page < REFILL_MAX_PAGES; page++) {
      const rows = await store.readRaw(
        deviceId,
        metric,
        start,
        Number.MAX_SAFE_INTEGER,
        REFILL_MAX_ROWS,
      );
      ts = ts.concat(rows.ts);
      values = values.concat(rows.values);
      if (ts.length > REFILL_MAX_ROWS) {
        ts = ts.slice(-REFILL_MAX_ROWS);
        values = values.slice(-REFILL_MAX_ROWS);
        cut = true;
      }
      if (rows.ts.length < REFILL_MAX_ROWS) return { ts, values, cut };
      start = rows.ts[rows.ts.length - 1] + 1;
    }
    return { ts, values, cut: true };
  }

  /** The devices of this gateway's readings rooms: single devices first, then groups, the fleet. */
  private *watchedDevices(): Generator<string> {
    const order = (room: string) => (room.startsWith('device:') ? 0 : room === FLEET_ROOM ? 2 : 1);
    const rooms = this.rooms.readingsRooms().sort((a, b) => order(a) - order(b));
    const fleet = () => this.registry.list().map((d) => d.deviceId);
    const seen = new Set<string>();
    for (const room of rooms)
      for (const id of devicesOfRoom(room, this.registry, fleet))
        if (!seen.has(id)) {
          seen.add(id);
          yield id;
        }
  }
}
