import { DestroyRef, Injectable, inject, signal } from '@angular/core';
import { DOCUMENT } from '@angular/common';
import type {
  AckResponse,
  AlertEvent,
  DeviceInfo,
  GatewayStatus,
  LaggedEvent,
  Reading,
  SubscribeAck,
  SubscribeRequest,
  UnsubscribeRequest,
} from '@pulse/protocol';
import { AlertStore } from './alert.store';
import { BackoffOptions, DEFAULT_BACKOFF, backoffDelay } from './backoff';
import { DeviceStore } from './device.store';
import {
  LIVE_SOCKET_FACTORY,
  LiveSocket,
  LiveSocketHandlers,
  RANDOM,
  TransportName,
} from './live-socket';
import { SeriesStore } from './series.store';
import { ALERT_LIMITS } from './wire';

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

/** What a view wants to watch, and how much history it needs. */
export interface WatchSpec {
  devices?: string[];
  groups?: string[];
  fleet?: boolean;
  /** History asked for on first subscribe (ms before now); 0 = none. */
  historyMs: number;
  /** Cap on history points per metric in the acknowledgement. */
  maxPoints: number;
  /** Points to keep per series of the watched devices (explicit device lists only). */
  capacity?: number;
}

export interface WatchHandle {
  release(): void;
}

interface Watch {
  key: string;
  spec: WatchSpec;
  refs: number;
  /** Newest reading timestamp held for this subscription: re-subscribe `since` it. */
  lastTs: number | null;
  unpins: Array<() => void>;
  /** Bumped per (re)subscribe so a late acknowledgement of an older one is ignored. */
  generation: number;
}

const SUBSCRIBE_TIMEOUT_MS = 10_000;
const ACK_TIMEOUT_MS = 5_000;

/**
 * Outcome of {@link LiveService.acknowledge}: the gateway's answer, or why it
 * was never asked (`disconnected`) or did not answer in time (`timeout`).
 */
export type AckOutcome =
  | AckResponse
  | { ok: false; error: 'disconnected' | 'timeout'; message: string };

/**
 * The one owner of the live connection. Components read its signals and call
 * `watch()`; they never see the socket.
 *
 * Reconnects are ours (socket.io's are off): exponential backoff with jitter,
 * a countdown the UI can show, an immediate try when the browser comes back
 * online. After every (re)connect each watch is re-subscribed with `since` =
 * the newest timestamp it holds, and the acknowledgement's history fills the gap.
 */
@Injectable({ providedIn: 'root' })
export class LiveService {
  private readonly devices = inject(DeviceStore);
  private readonly series = inject(SeriesStore);
  private readonly alerts = inject(AlertStore);
  private readonly socketFactory = inject(LIVE_SOCKET_FACTORY);
  private readonly random = inject(RANDOM);
  private readonly document = inject(DOCUMENT);

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
  private readonly _lagged = signal(0);
  /** Times the gateway dropped our backlog (we then re-subscribed). */
  readonly lagged = this._lagged.asReadonly();

  backoff: BackoffOptions = DEFAULT_BACKOFF;
  private socket: LiveSocket | null = null;
  private transportOrder: TransportName[] = ['websocket', 'polling'];
  private replaceSocket = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly watches = new Map<string, Watch>();
  /** serverTime - Date.now(), from the last gateway report. */
  private clockOffsetMs = 0;
  private stopped = false;

  constructor() {
    const win = this.document.defaultView;
    if (win) {
      const online = () => this.browserOnline();
      const offline = () => this.browserOffline();
      win.addEventListener('online', online);
      win.addEventListener('offline', offline);
      inject(DestroyRef).onDestroy(() => {
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
    this.transportOrder = this.transports();
    this.socket = this.createSocket();
    this.tryConnect();
  }

  stop(): void {
    this.stopped = true;
    this.clearRetry();
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
    const key = JSON.stringify([
      spec.fleet ?? false,
      spec.devices ?? [],
      spec.groups ?? [],
      spec.historyMs,
      spec.maxPoints,
    ]);
    let watch = this.watches.get(key);
    if (!watch) {
      watch = { key, spec, refs: 0, lastTs: null, unpins: [], generation: 0 };
      if (spec.capacity)
        for (const id of spec.devices ?? [])
          watch.unpins.push(this.series.pinCapacity(id, spec.capacity));
      this.watches.set(key, watch);
      if (this._connection().phase === 'connected') void this.subscribe(watch);
    }
    watch.refs++;
    this.start();
    const target = watch;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        if (--target.refs > 0) return;
        this.watches.delete(target.key);
        for (const unpin of target.unpins) unpin();
        target.generation++;
        if (this._connection().phase === 'connected')
          this.socket?.unsubscribe(targets(target.spec));
      },
    };
  }

  /**
   * Acknowledge an alert as `by` over the live socket. Never throws: the
   * outcome says what happened (`already_acknowledged`, `not_found`, `invalid`,
   * `disconnected`, `timeout`). The resulting `alert` event reaches every
   * screen, this one included; the returned alert is applied at once as well.
   */
  async acknowledge(id: string, by: string, note?: string): Promise<AckOutcome> {
    const who = by.trim();
    if (!who || who.length > ALERT_LIMITS.maxAckByLength) {
      return {
        ok: false,
        error: 'invalid',
        message: `name: 1 to ${ALERT_LIMITS.maxAckByLength} characters`,
      };
    }
    const socket = this.socket;
    if (!socket || this._connection().phase !== 'connected') {
      return {
        ok: false,
        error: 'disconnected',
        message: 'not connected to the gateway; try again when the connection is back',
      };
    }
    let response: AckResponse;
    try {
      response = await socket.ack({ id, by: who, ...(note ? { note } : {}) }, ACK_TIMEOUT_MS);
    } catch {
      return {
        ok: false,
        error: 'timeout',
        message: `the gateway did not answer within ${ACK_TIMEOUT_MS / 1000} s`,
      };
    }
    if (!response || typeof response !== 'object')
      return { ok: false, error: 'invalid', message: 'malformed answer from the gateway' };
    if (response.ok) this.alerts.applyIfNewer(response.alert as AlertEvent);
    return response;
  }

  /** Newest timestamp held by the watch with this spec (tests, diagnostics). */
  heldSince(spec: WatchSpec): number | null {
    for (const watch of this.watches.values()) if (watch.spec === spec) return watch.lastTs;
    return null;
  }

  private transports(): TransportName[] {
    // `?transport=polling` forces long-polling only (tests, proxies that break websockets).
    const search = this.document.defaultView?.location?.search ?? '';
    const forced = new URLSearchParams(search).get('transport');
    if (forced === 'polling') return ['polling'];
    if (forced === 'websocket') return ['websocket'];
    return ['websocket', 'polling'];
  }

  private createSocket(): LiveSocket {
    // Events of a replaced socket are ignored: only the current one speaks.
    let socket: LiveSocket | null = null;
    const current = () => socket !== null && socket === this.socket;
    const handlers: LiveSocketHandlers = {
      connected: (transport) => current() && this.onConnected(transport),
      transport: (transport) => current() && this._connection.update((s) => ({ ...s, transport })),
      disconnected: (reason) => current() && this.onLost(reason, false),
      connectFailed: (message) => current() && this.onLost(message, true),
      readings: (readings) => current() && this.onReadings(readings),
      device: (device) => current() && this.onDevice(device),
      gateway: (status) => current() && this.onGateway(status),
      lagged: (info) => current() && this.onLagged(info),
      alerts: (list) => current() && this.alerts.replaceAll(list),
      alert: (alert) => current() && this.alerts.apply(alert),
    };
    socket = this.socketFactory({ url: '', transports: this.transportOrder }, handlers);
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
  }

  private onConnected(transport: TransportName): void {
    this.clearRetry();
    this._connection.set({
      phase: 'connected',
      transport,
      attempt: 0,
      nextRetryAt: null,
      reason: null,
    });
    for (const watch of this.watches.values()) void this.subscribe(watch);
  }

  private onLost(reason: string, attemptFailed: boolean): void {
    if (this.stopped || reason === 'io client disconnect') return;
    // A failed attempt and the disconnect that may follow it are one failure.
    if (this.retryTimer !== null) return;
    if (attemptFailed && this.transportOrder.length > 1 && this.transportOrder[0] === 'websocket') {
      // A websocket that is accepted and then closed by a middlebox never raises the
      // transport *error* socket.io needs to fall back; it just times out. From now on
      // start with long-polling and let socket.io upgrade to a websocket when it can.
      this.transportOrder = ['polling', 'websocket'];
      this.replaceSocket = true;
    }
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

  private async subscribe(watch: Watch): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    const generation = ++watch.generation;
    const since =
      watch.lastTs ??
      (watch.spec.historyMs > 0 ? this.serverNow() - watch.spec.historyMs : undefined);
    const request: SubscribeRequest = {
      ...targets(watch.spec),
      ...(since !== undefined ? { since } : {}),
      maxPoints: watch.spec.maxPoints,
      history: watch.spec.historyMs > 0,
    };
    let ack: SubscribeAck;
    try {
      ack = await socket.subscribe(request, SUBSCRIBE_TIMEOUT_MS);
    } catch (error) {
      // Timed out. If the connection is dying the next connect re-subscribes;
      // if it is merely slow, ask again rather than stay silently unsubscribed.
      console.warn('[live] subscribe timed out', error);
      if (
        watch.generation === generation &&
        this.watches.get(watch.key) === watch &&
        this._connection().phase === 'connected'
      ) {
        void this.subscribe(watch);
      }
      return;
    }
    if (watch.generation !== generation || this.watches.get(watch.key) !== watch) return;
    if (!ack.ok) {
      console.warn(`[live] subscribe refused: ${ack.error}`);
      return;
    }
    this.applySnapshot(watch, ack.serverTime, ack.devices, ack.history);
  }

  /** Merge an acknowledgement: device records, then history into the buffers (filling any gap). */
  private applySnapshot(
    watch: Watch,
    serverTime: number,
    devices: DeviceInfo[],
    history: SubscribeAckHistory,
  ): void {
    this.clockOffsetMs = serverTime - Date.now();
    for (const info of devices) this.devices.upsertInfo(info);
    for (const series of history) {
      const n = Math.min(series.t.length, series.v.length);
      if (n === 0) continue;
      this.series.merge(series);
      this.devices.noteHistory(series.deviceId, series.metric, series.t[n - 1], series.v[n - 1]);
      const last = series.t[n - 1];
      if (watch.lastTs === null || last > watch.lastTs) watch.lastTs = last;
    }
    this.devices.flush();
  }

  private onReadings(readings: Reading[]): void {
    if (!Array.isArray(readings)) return;
    this.devices.ingest(readings, this.serverNow());
    if (this.watches.size === 0) return;
    for (const watch of this.watches.values()) {
      for (let i = 0; i < readings.length; i++) {
        const reading = readings[i];
        if (
          (watch.lastTs === null || reading.ts > watch.lastTs) &&
          this.covers(watch.spec, reading.deviceId)
        ) {
          watch.lastTs = reading.ts;
        }
      }
    }
  }

  private covers(spec: WatchSpec, deviceId: string): boolean {
    if (spec.fleet) return true;
    if (spec.devices?.includes(deviceId)) return true;
    if (spec.groups?.length) {
      const group = this.devices.get(deviceId)?.group;
      return group != null && spec.groups.includes(group);
    }
    return false;
  }

  private onDevice(device: DeviceInfo): void {
    if (device && typeof device.deviceId === 'string') this.devices.upsertInfo(device);
  }

  private onGateway(status: GatewayStatus): void {
    if (!status) return;
    this.clockOffsetMs = status.serverTime - Date.now();
    this._gateway.set(status);
  }

  private onLagged(info: LaggedEvent): void {
    this._lagged.update((n) => n + 1);
    console.warn(
      `[live] gateway stopped sending readings at ${info?.since ?? '?'} (we fell behind); re-subscribing`,
    );
    for (const watch of this.watches.values()) void this.subscribe(watch);
  }
}

type SubscribeAckHistory = Extract<SubscribeAck, { ok: true }>['history'];

function targets(spec: WatchSpec): UnsubscribeRequest {
  const request: UnsubscribeRequest = {};
  if (spec.fleet) request.fleet = true;
  if (spec.devices?.length) request.devices = spec.devices;
  if (spec.groups?.length) request.groups = spec.groups;
  return request;
}
