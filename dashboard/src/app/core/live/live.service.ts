import { DestroyRef, Injectable, inject, signal } from '@angular/core';
import { DOCUMENT } from '@angular/common';
import type { DeviceInfo, GatewayStatus, LaggedEvent, Reading } from '@pulse/protocol/core';
import {
  ALERTS_OVER_HTTP,
  BackoffOptions,
  DEFAULT_BACKOFF,
  backoffDelay,
} from '@pulse/protocol/core';
import { DisplayTokenStore } from '../auth/display-token';
import { DevicesApi } from '../http/devices-api';
import { AlertsApi } from '../http/alerts-api';
import { AlertStore } from '../stores/alert.store';
import { DeviceStore } from '../stores/device.store';
import { SeriesStore } from '../stores/series.store';
import { AckOutcome, acknowledgeAlert } from './alert-acknowledgement';
import { AlertInput } from './alert-input';
import { AlertsFeed } from './alerts-feed';
import {
  LIVE_SOCKET_FACTORY,
  LiveSocket,
  LiveSocketHandlers,
  RANDOM,
  TransportName,
} from './live-socket';
import type { DeviceSetHandle, DeviceSetOptions } from './live-rooms';
import { LiveSubscriptions } from './live-subscriptions';
import { rangePoints } from './merged-readings';
import { TransportChoice, pageTransportEnv } from './transport-choice';
import type { WatchHandle, WatchSpec } from './live-watches';

/*
 * The live connection: connection state and reconnects, subscriptions (bookkeeping in
 * live-subscriptions.ts), and feeding the stores, which nothing else in the app writes live data
 * into. Which transports it tries is transport-choice.ts's call; how an alert is acknowledged,
 * alert-acknowledgement.ts's. It must not import socket.io (live-socket.ts does) nor draw (the
 * frame scheduler does).
 */

export type ConnectionPhase = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'offline';

export interface ConnectionState {
  phase: ConnectionPhase;
  /** Transport of the live connection, null when not connected. */
  transport: TransportName | null;
  /** Failed attempts since the last successful connection. */
  attempt: number;
  /** Client-clock time of the next connection attempt while reconnecting/offline. */
  nextRetryAt: number | null;
  /** Why the last connection ended or failed. */
  reason: string | null;
}

/**
 * The one owner of the live connection, and the only writer of the stores' live data: device
 * records, series points (readings and acknowledged history) and alerts all arrive here.
 * Components read its signals and call `watch()`; they never see the socket.
 *
 * Reconnects are ours (socket.io's are off): exponential backoff with jitter,
 * a countdown the UI can show, an immediate try when the browser comes back
 * online. After every (re)connect each watch is re-subscribed with `since` =
 * the newest timestamp it holds, and the acknowledgement's history fills the gap.
 */
/** After a failed read of the active list, connections ask for its snapshot this long (0054). */
export const ALERTS_IN_STREAM_MS = 10 * 60_000;
/** ...and the one that replaces the connection whose read failed comes within this long. */
export const ALERTS_FALLBACK_JITTER_MS = 2000;

@Injectable({ providedIn: 'root' })
export class LiveService {
  // The stores it alone writes, and what it watches for the views.
  private readonly devices = inject(DeviceStore);
  private readonly series = inject(SeriesStore);
  private readonly alerts = inject(AlertStore);
  private readonly devicesApi = inject(DevicesApi);
  private readonly subscriptions = new LiveSubscriptions(
    {
      socket: () => this.socket,
      connected: () => this._connection().phase === 'connected',
      serverNow: () => this.serverNow(),
      serverTimeIs: (serverTime) => (this.clockOffsetMs = serverTime - Date.now()),
    },
    this.devices,
    this.series,
    (deviceIds, from, maxPoints, signal) =>
      this.devicesApi.windows(deviceIds, { from, maxPoints }, signal),
    () => this.random(),
  );
  private readonly alertsApi = inject(AlertsApi);
  /** The active list: read over HTTP at the greeting's version, or the snapshot in the stream. */
  private readonly alertInput = inject(AlertInput);
  private readonly alertsFeed = new AlertsFeed(this.alerts, this.alertInput, {
    read: (signal) => this.alertsApi.active(signal),
    giveUp: (why) => this.alertsInStream(why),
  });
  /**
   * Ask the gateway for the list's version (0054) rather than its snapshot, except for
   * ALERTS_IN_STREAM_MS after a read failed (Date.now()).
   */
  private alertsInStreamUntil = 0;
  /** Connections made so far (which one a deferred step was meant for). */
  private connections = 0;
  // The outside world, replaced in tests.
  private readonly socketFactory = inject(LIVE_SOCKET_FACTORY);
  private readonly random = inject(RANDOM);
  private readonly document = inject(DOCUMENT);
  private readonly displayToken = inject(DisplayTokenStore);

  private readonly _connection = signal<ConnectionState>({
    phase: 'idle',
    transport: null,
    attempt: 0,
    nextRetryAt: null,
    reason: null,
  });
  /** Browser ↔ gateway connection. */
  readonly connection = this._connection.asReadonly();
  private readonly _gateway = signal<GatewayStatus | null>(null);
  /** Gateway's own health (its broker link), as last reported; null before the first report. */
  readonly gateway = this._gateway.asReadonly();
  private readonly _throttleMs = signal(0);
  /**
   * The gateway throttled this connection (it could not keep up): merged readings — newest value
   * with the range of what they stand for — every this many ms; 0 = every reading.
   */
  readonly throttleMs = this._throttleMs.asReadonly();
  private readonly _lagged = signal(0);
  /** Times the gateway dropped our backlog (we then re-subscribed). */
  readonly lagged = this._lagged.asReadonly();

  backoff: BackoffOptions = DEFAULT_BACKOFF;
  private socket: LiveSocket | null = null;
  /** Transports and their order (remembered per origin), from start() on. */
  private choice: TransportChoice | null = null;
  private replaceSocket = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** serverTime - Date.now(), from the last gateway report. */
  private clockOffsetMs = 0;
  private stopped = false;

  constructor() {
    const destroyRef = inject(DestroyRef);
    // An evicted device's points go with it (the device store bounds the map, we own series).
    destroyRef.onDestroy(
      this.devices.onEvict((deviceId) => {
        this.series.drop(deviceId);
        this.subscriptions.forgetDevice(deviceId);
      }),
    );
    const win = this.document.defaultView;
    if (win) {
      const online = () => this.browserOnline();
      const offline = () => this.browserOffline();
      win.addEventListener('online', online);
      win.addEventListener('offline', offline);
      destroyRef.onDestroy(() => {
        win.removeEventListener('online', online);
        win.removeEventListener('offline', offline);
        this.stop();
      });
    }
  }

  /** Current time on the gateway's clock (our clock corrected by the last report). */
  serverNow(): number {
    return Date.now() + this.clockOffsetMs;
  }

  /** Open the connection (idempotent). */
  start(): void {
    if (this.socket) return;
    this.stopped = false;
    this.choice = new TransportChoice(pageTransportEnv(this.document.defaultView));
    this.socket = this.createSocket();
    this.tryConnect();
  }

  /**
   * Drop the connection and open a new one at once (when started): the gateway reads who we
   * are at the handshake only, so a sign-in or sign-out needs a new connection.
   */
  reconnect(): void {
    if (!this.socket || this.stopped) return;
    this.replaceSocket = true;
    this._connection.update((s) => ({ ...s, attempt: 0 }));
    this.tryConnect();
  }

  stop(): void {
    this.stopped = true;
    this.clearRetry();
    this.choice?.stop();
    this.subscriptions.stop();
    this.alertsFeed.reset();
    this.socket?.disconnect();
    this.socket = null;
    this._connection.set({
      phase: 'idle',
      transport: null,
      attempt: 0,
      nextRetryAt: null,
      reason: 'stopped',
    });
  }

  /**
   * Watch devices, groups or the whole fleet until `release()`. Identical
   * specs share one subscription. History arrives with the acknowledgement.
   */
  watch(spec: WatchSpec): WatchHandle {
    this.start();
    return this.subscriptions.watch(spec);
  }

  /**
   * Follow the fleet summary until `release()`: every device's status, last seen, name, group,
   * latest values and alert state, applied to the device store (snapshot, then changes at most
   * once a second). Shared by every caller (counted); re-subscribed after each reconnect.
   */
  watchSummary(): WatchHandle {
    this.start();
    return this.subscriptions.watchSummary();
  }

  /**
   * A set of devices a view shows (the tiles on screen), changed with `set()` as often as it
   * likes: devices that joined are subscribed (history per `options`), those that left
   * unsubscribed, one diff per DEVICE_SET_BATCH_MS. Counted by device with every other watch.
   */
  watchDevices(options: DeviceSetOptions): DeviceSetHandle {
    this.start();
    return this.subscriptions.watchDevices(options);
  }

  /**
   * Some view subscribes this device's readings (its device room, a group room covering it or
   * the fleet): a view that let the device go must not take its record out of the store.
   */
  isWatched(deviceId: string): boolean {
    return this.subscriptions.isWatched(deviceId);
  }

  /** Newest timestamp held by the watch with this spec (tests, diagnostics). */
  heldSince(spec: WatchSpec): number | null {
    return this.subscriptions.heldSince(spec);
  }

  /**
   * Acknowledge an alert over the live socket, as whoever the gateway saw at the handshake
   * (it takes `by` from the session, never from us). Never throws: the outcome says what
   * happened (`already_acknowledged`, `not_found`, `invalid`, `unauthorized`, `forbidden`,
   * `disconnected`, `timeout`). The resulting `alert` event reaches every screen, this one
   * included; the returned alert is applied at once as well.
   */
  acknowledge(id: string, note?: string): Promise<AckOutcome> {
    const connected = this._connection().phase === 'connected';
    return acknowledgeAlert(connected ? this.socket : null, this.alerts, this.alertInput, id, note);
  }

  private createSocket(): LiveSocket {
    // Events of a replaced socket are ignored: only the current one speaks.
    let socket: LiveSocket | null = null;
    const current = () => socket !== null && socket === this.socket;
    const handlers: LiveSocketHandlers = {
      connected: (transport) => current() && this.onConnected(transport),
      transport: (transport) => current() && this.onTransport(transport),
      upgradeFailed: () => current() && this.choice?.upgradeFailed(),
      disconnected: (reason) => current() && this.onLost(reason, false),
      connectFailed: (message) => current() && this.onLost(message, true),
      readings: (readings) => current() && this.onReadings(readings),
      device: (device) => current() && this.onDevice(device),
      gateway: (status) => current() && this.onGateway(status),
      lagged: (info) => current() && this.onLagged(info),
      throttle: (info) =>
        current() && this._throttleMs.set(Math.max(0, Number(info?.intervalMs) || 0)),
      alerts: (list) => current() && this.alertsFeed.snapshot(list),
      alertsVersion: (info) => current() && this.alertsFeed.greeted(info),
      alert: (alert) => current() && this.alertsFeed.delta(alert),
      summary: (delta) => current() && this.subscriptions.summary(delta),
    };
    const auth = (): Record<string, string> => {
      const auth: Record<string, string> = {};
      // A paired wall screen: its display token in the handshake (never in the URL).
      const token = this.displayToken.token();
      if (token !== null) auth['token'] = token;
      if (Date.now() >= this.alertsInStreamUntil) auth['alerts'] = ALERTS_OVER_HTTP;
      return auth;
    };
    const transports = this.choice?.transports ?? [];
    socket = this.socketFactory({ url: '', transports, auth }, handlers);
    return socket;
  }

  private tryConnect(): void {
    if (this.stopped || !this.socket) return;
    this.clearRetry();
    if (this.replaceSocket) {
      this.replaceSocket = false;
      this.socket.disconnect();
      this.socket = this.createSocket();
    }
    this._connection.update((s) => ({
      ...s,
      phase: 'connecting',
      transport: null,
      nextRetryAt: null,
    }));
    this.socket.connect();
    // A WebSocket-first attempt that stays silent gives way to long-polling on a new socket.
    this.choice?.attemptStarted(() => {
      if (this._connection().phase !== 'connecting') return;
      this.replaceSocket = true;
      this.tryConnect();
    });
  }

  private onConnected(transport: TransportName): void {
    this.connections++;
    this.clearRetry();
    this.choice?.connected(transport);
    this._throttleMs.set(0); // a new connection starts at every reading
    this._connection.set({
      phase: 'connected',
      transport,
      attempt: 0,
      nextRetryAt: null,
      reason: null,
    });
    this.subscriptions.connected();
  }

  private onLost(reason: string, attemptFailed: boolean): void {
    this.alertsFeed.reset();
    if (this.stopped || reason === 'io client disconnect') return;
    // A failed attempt and the disconnect that may follow it are one failure.
    if (this.retryTimer !== null) return;
    if (this.choice?.lost(attemptFailed)) this.replaceSocket = true;
    const attempt = this._connection().attempt + 1;
    const delay = backoffDelay(attempt, this.random(), this.backoff);
    const offline = this.document.defaultView?.navigator?.onLine === false;
    this._connection.set({
      phase: offline ? 'offline' : 'reconnecting',
      transport: null,
      attempt,
      nextRetryAt: Date.now() + delay,
      reason,
    });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.tryConnect();
    }, delay);
  }

  private onTransport(transport: TransportName): void {
    this.choice?.upgraded(transport);
    this._connection.update((s) => ({ ...s, transport }));
  }

  private browserOffline(): void {
    const state = this._connection();
    if (state.phase === 'reconnecting') this._connection.set({ ...state, phase: 'offline' });
  }

  private browserOnline(): void {
    // Do not wait out a long backoff once the network is back.
    const phase = this._connection().phase;
    if (phase === 'reconnecting' || phase === 'offline') this.tryConnect();
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  /** Device records first (cadence, eviction), then the points of the devices still held. */
  private onReadings(readings: Reading[]): void {
    if (!Array.isArray(readings)) return;
    this.devices.ingest(readings, this.serverNow());
    for (let r = 0; r < readings.length; r++) {
      const reading = readings[r];
      const device = this.devices.get(reading.deviceId);
      if (!device) continue; // evicted by a newer device of the same batch
      this.series.noteCadence(reading.deviceId, device.cadenceMs);
      for (const metric in reading.values) {
        const range = reading.range?.[metric];
        // A merged reading (throttled): its low and high go on the chart too, a spike is never hidden.
        if (range && range[0] !== range[1]) {
          const held = this.series.get(reading.deviceId, metric)?.lastTs ?? null;
          for (const [t, v] of rangePoints(reading, metric, range, held))
            this.series.push(reading.deviceId, metric, t, v);
        }
        this.series.push(reading.deviceId, metric, reading.ts, reading.values[metric]);
      }
    }
    this.subscriptions.noteReadings(readings);
  }

  private onDevice(device: DeviceInfo): void {
    if (device && typeof device.deviceId === 'string') this.devices.upsertInfo(device);
  }

  private onGateway(status: GatewayStatus): void {
    if (!status) return;
    this.clockOffsetMs = status.serverTime - Date.now();
    this._gateway.set(status);
  }

  /**
   * The list cannot be read over HTTP here (another gateway answers `/api`, or the reads fail):
   * connect again, within ALERTS_FALLBACK_JITTER_MS (a wall of screens that fell back together
   * does not come back at once), asking for the snapshot in the stream; the connections of the
   * next ALERTS_IN_STREAM_MS do too, then the version is asked for again.
   */
  private alertsInStream(why: string): void {
    console.warn(
      `[live] the active alerts were not read over HTTP (${why}); asking the gateway for them on the socket`,
    );
    this.alertsInStreamUntil = Date.now() + ALERTS_IN_STREAM_MS;
    const failed = this.connections;
    setTimeout(() => {
      // A connection made since (a reconnect after a drop) already asked for the snapshot.
      if (this.connections === failed && this._connection().phase === 'connected') this.reconnect();
    }, this.random() * ALERTS_FALLBACK_JITTER_MS);
  }

  private onLagged(info: LaggedEvent): void {
    this._lagged.update((n) => n + 1);
    console.warn(
      `[live] gateway stopped sending readings at ${info?.since ?? '?'} (we fell behind); re-subscribing`,
    );
    this.subscriptions.lagged();
  }
}
