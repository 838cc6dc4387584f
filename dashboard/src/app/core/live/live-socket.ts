import { InjectionToken } from '@angular/core';
import type {
  AckResponse,
  AlertEvent,
  AlertsVersionEvent,
  ClientToServerEvents,
  DeviceInfo,
  GatewayStatus,
  LaggedEvent,
  LiveAckRequest,
  Reading,
  ServerToClientEvents,
  SubscribeAck,
  SubscribeRequest,
  SummaryEventWire,
  ThrottleEvent,
  UnsubscribeRequest,
} from '@pulse/protocol/core';
import { LIVE_NAMESPACE, LiveEvent } from '@pulse/protocol/core';
import { io, Socket } from 'socket.io-client';
import type { IncomingAlert } from './alert-input';

/*
 * The socket.io-client boundary of the app: the small typed LiveSocket interface, its one
 * implementation (the only import of socket.io-client) and the injection tokens tests replace.
 * It owns wire details (namespace, transports, timeouts on acknowledgements) and must not hold
 * state or reconnect by itself: LiveService decides when to connect and what to do with events.
 */

export type TransportName = 'websocket' | 'polling';

/** What the live service hears from its socket. */
export interface LiveSocketHandlers {
  connected(transport: TransportName): void;
  /** The transport changed on a live connection (polling upgraded to websocket). */
  transport(transport: TransportName): void;
  /** The background WebSocket upgrade of a polling connection failed (the connection goes on). */
  upgradeFailed(): void;
  disconnected(reason: string): void;
  connectFailed(message: string): void;
  readings(readings: Reading[]): void;
  device(device: DeviceInfo): void;
  gateway(status: GatewayStatus): void;
  lagged(info: LaggedEvent): void;
  /** This connection's readings rate changed: merged readings every `intervalMs` (0: every reading). */
  throttle(info: ThrottleEvent): void;
  /** Snapshot of the active alerts, sent on connect by a gateway that was not asked for its version. */
  alerts(alerts: AlertEvent[]): void;
  /** The active list's version on connect: the list is read over HTTP (decision 0054). */
  alertsVersion(info: AlertsVersionEvent): void;
  /** One alert lifecycle change (every client gets every one), numbered by the gateway (`v`). */
  alert(alert: IncomingAlert): void;
  /** Fleet summary changes (at most one a second), after subscribing with `summary: true`. */
  summary(delta: SummaryEventWire): void;
}

/**
 * The few things the live service does with a socket. Kept this small so unit
 * tests inject a fake (see `live.service.spec.ts`) and nothing else in the app
 * can reach socket.io.
 */
export interface LiveSocket {
  /** Start one connection attempt. Never retries by itself. */
  connect(): void;
  disconnect(): void;
  subscribe(request: SubscribeRequest, timeoutMs: number): Promise<SubscribeAck>;
  unsubscribe(request: UnsubscribeRequest): void;
  /** Acknowledge an alert; rejects when the gateway does not answer in time. */
  ack(request: LiveAckRequest, timeoutMs: number): Promise<AckResponse>;
}

export interface LiveSocketOptions {
  /** Origin (or '' for the page's own). */
  url: string;
  transports: TransportName[];
  /**
   * The handshake's `auth` (a display token; `alerts: 'http'` for the list's version instead of
   * its snapshot), read again at every connection attempt.
   */
  auth?: () => Record<string, string>;
}

export type LiveSocketFactory = (
  options: LiveSocketOptions,
  handlers: LiveSocketHandlers,
) => LiveSocket;

/** The socket.io-client implementation, the only import of socket.io in the app. */
export const socketIoFactory: LiveSocketFactory = (options, handlers) => {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(
    `${options.url}${LIVE_NAMESPACE}`,
    {
      // In the order the live service planned (transport-memory.ts): long-polling first unless a
      // WebSocket worked here last time. socket.io's own `rememberUpgrade` stays off: it lasts one
      // page and would skip the live service's guard on reconnects.
      transports: options.transports,
      // A WebSocket that errors (refused, closed before its handshake answer) falls back to
      // long-polling on the same attempt; one that hangs is the live service's guard's business.
      tryAllTransports: true,
      // The live service owns retries: it must know when the next one happens to show a countdown.
      reconnection: false,
      autoConnect: false,
      timeout: 10_000,
      // A function: socket.io calls it on every attempt, so a token set or dropped since counts.
      auth: (send) => send(options.auth?.() ?? {}),
    },
  );
  const transportName = (): TransportName =>
    socket.io.engine?.transport?.name === 'polling' ? 'polling' : 'websocket';
  // Each (re)opened engine probes the upgrade anew after a polling handshake.
  socket.io.on('open', () => socket.io.engine?.on('upgradeError', () => handlers.upgradeFailed()));
  socket.on('connect', () => {
    handlers.connected(transportName());
    socket.io.engine?.once('upgrade', () => handlers.transport(transportName()));
  });
  socket.on('disconnect', (reason) => handlers.disconnected(reason));
  socket.on('connect_error', (error) => handlers.connectFailed(error.message));
  socket.on(LiveEvent.readings, (readings) => handlers.readings(readings));
  socket.on(LiveEvent.devices, (devices) => {
    if (Array.isArray(devices)) for (const device of devices) handlers.device(device);
  });
  socket.on(LiveEvent.gateway, (status) => handlers.gateway(status));
  socket.on(LiveEvent.lagged, (info) => handlers.lagged(info));
  socket.on(LiveEvent.throttle, (info) => handlers.throttle(info));
  socket.on(LiveEvent.alerts, (alerts) => handlers.alerts(alerts));
  socket.on(LiveEvent.alertsVersion, (info) => handlers.alertsVersion(info));
  socket.on(LiveEvent.alert, (alert) => handlers.alert(alert));
  socket.on(LiveEvent.summary, (delta) => handlers.summary(delta));
  return {
    connect: () => void socket.connect(),
    disconnect: () => void socket.disconnect(),
    subscribe: (request, timeoutMs) =>
      socket.timeout(timeoutMs).emitWithAck(LiveEvent.subscribe, request) as Promise<SubscribeAck>,
    unsubscribe: (request) => void socket.emit(LiveEvent.unsubscribe, request, () => undefined),
    ack: (request, timeoutMs) =>
      socket.timeout(timeoutMs).emitWithAck(LiveEvent.ack, request) as Promise<AckResponse>,
  };
};

export const LIVE_SOCKET_FACTORY = new InjectionToken<LiveSocketFactory>('LIVE_SOCKET_FACTORY', {
  providedIn: 'root',
  factory: () => socketIoFactory,
});

/** Source of randomness for backoff jitter (a fixed value in tests). */
export const RANDOM = new InjectionToken<() => number>('RANDOM', {
  providedIn: 'root',
  factory: () => Math.random,
});
