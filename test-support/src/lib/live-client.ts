/**
 * socket.io clients of Pulse's `/live` namespace for tests, typed by the protocol's event maps:
 * connect over either transport, subscribe with the acknowledgement, collect `readings` and
 * alerts, close without leaving a polling request behind. Owns only the client side; never
 * reaches into a server.
 */
import type {
  AlertEvent,
  ClientToServerEvents,
  Reading,
  ServerToClientEvents,
  SubscribeAck,
  SubscribeRequest,
} from '@pulse/protocol';
import { LIVE_NAMESPACE } from '@pulse/protocol';
import { io, ManagerOptions, Socket, SocketOptions } from 'socket.io-client';
import { waitFor } from './wait';

export type LiveClient = Socket<ServerToClientEvents, ClientToServerEvents>;
export type Transport = 'websocket' | 'polling';

/**
 * A socket.io client on `/live` with exactly the given transports, connected. `setup` runs
 * before the connection opens: listen there for what the server sends on connect
 * (`gateway`, `alerts`). `options` adds client options (`ca` for a test certificate).
 */
export function connectLive(
  httpUrl: string,
  transports: Transport[] = ['websocket'],
  setup?: (socket: LiveClient) => void,
  options: Partial<ManagerOptions & SocketOptions> = {},
): Promise<LiveClient> {
  const socket: LiveClient = io(`${httpUrl}${LIVE_NAMESPACE}`, {
    transports,
    reconnection: false,
    forceNew: true,
    ...options,
  });
  setup?.(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}

export function subscribe(socket: LiveClient, request: SubscribeRequest): Promise<SubscribeAck> {
  return socket.timeout(5000).emitWithAck('subscribe', request);
}

/** Close a live client and wait until its engine.io transport is really gone (polling closes asynchronously). */
export function closeLive(socket: LiveClient, timeoutMs = 2000): Promise<void> {
  const engine = socket.io.engine;
  if (!engine || engine.readyState === 'closed') {
    socket.close();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    engine.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.close();
  });
}

/** The clients one test opens, closed together after it (call `closeAll` in `afterEach`). */
export interface LiveClients {
  /** `connectLive` against the server `httpUrl()` names now, remembered for `closeAll`. */
  open(transports?: Transport[], setup?: (socket: LiveClient) => void): Promise<LiveClient>;
  /** Remember a socket made some other way (e.g. with `autoConnect: false`). */
  track(socket: LiveClient): LiveClient;
  closeAll(): Promise<void>;
}

export function liveClients(httpUrl: () => string): LiveClients {
  const sockets: LiveClient[] = [];
  const track = (socket: LiveClient) => {
    sockets.push(socket);
    return socket;
  };
  return {
    open: async (transports, setup) => track(await connectLive(httpUrl(), transports, setup)),
    track,
    closeAll: async () => {
      await Promise.all(sockets.splice(0).map((socket) => closeLive(socket)));
    },
  };
}

export interface CollectedReadings {
  readings: Reading[];
  batches: number;
  waitForCount(n: number, timeoutMs?: number): Promise<Reading[]>;
}

/** Collects every `readings` batch a socket receives. */
export function collectReadings(socket: LiveClient): CollectedReadings {
  const state: CollectedReadings = {
    readings: [],
    batches: 0,
    waitForCount: (n, timeoutMs = 10_000) =>
      waitFor(() => (state.readings.length >= n ? state.readings : null), {
        timeoutMs,
        message: `${n} readings (have ${state.readings.length})`,
      }),
  };
  socket.on('readings', (batch) => {
    state.batches++;
    state.readings.push(...batch);
  });
  return state;
}

export interface CollectedAlerts {
  snapshots: AlertEvent[][];
  events: AlertEvent[];
  waitForEvent(
    match: (event: AlertEvent) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<AlertEvent>;
}

/** Records `alerts` snapshots and `alert` events; attach in `connectLive`'s setup to catch the snapshot. */
export function collectAlerts(socket: LiveClient): CollectedAlerts {
  const state: CollectedAlerts = {
    snapshots: [],
    events: [],
    waitForEvent: (match, what, timeoutMs = 10_000) =>
      waitFor(() => state.events.find(match), {
        timeoutMs,
        intervalMs: 5,
        message: `alert event: ${what} (have ${JSON.stringify(state.events.map((e) => [e.ruleId, e.deviceId, e.state]))})`,
      }),
  };
  socket.on('alerts', (alerts) => state.snapshots.push(alerts));
  socket.on('alert', (event) => state.events.push(event));
  return state;
}
