import type {
  AlertEvent,
  ClientToServerEvents,
  Reading,
  ServerToClientEvents,
  SubscribeAck,
  SubscribeRequest,
} from '@pulse/protocol';
import { LIVE_NAMESPACE } from '@pulse/protocol';
import mqtt, { IClientOptions, MqttClient } from 'mqtt';
import { io, Socket } from 'socket.io-client';
import { waitFor } from './net';

export type LiveClient = Socket<ServerToClientEvents, ClientToServerEvents>;
export type Transport = 'websocket' | 'polling';

/** An mqtt.js client, connected (rejects on connection error). */
export function connectMqtt(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, {
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...options,
    });
    client.once('connect', () => resolve(client));
    client.once('error', (error) => {
      client.end(true);
      reject(error);
    });
  });
}

export function publish(
  client: MqttClient,
  topic: string,
  payload: string | Buffer,
  qos: 0 | 1 = 0,
  retain = false,
): Promise<void> {
  return new Promise((resolve, reject) => {
    client.publish(topic, payload, { qos, retain }, (error) => (error ? reject(error) : resolve()));
  });
}

export function endMqtt(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.end(false, {}, () => resolve()));
}

/**
 * A socket.io client on `/live` with exactly the given transports, connected. `setup` runs
 * before the connection opens: listen there for what the server sends on connect
 * (`gateway`, `alerts`).
 */
export function connectLive(
  httpUrl: string,
  transports: Transport[] = ['websocket'],
  setup?: (socket: LiveClient) => void,
): Promise<LiveClient> {
  const socket: LiveClient = io(`${httpUrl}${LIVE_NAMESPACE}`, {
    transports,
    reconnection: false,
    forceNew: true,
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

/** Collects every `readings` batch a socket receives. */
export function collectReadings(socket: LiveClient): {
  readings: Reading[];
  batches: number;
  waitForCount(n: number, timeoutMs?: number): Promise<Reading[]>;
} {
  const state = {
    readings: [] as Reading[],
    batches: 0,
    waitForCount: (n: number, timeoutMs = 10_000) =>
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

/** Records `alerts` snapshots and `alert` events; attach in `connectLive`'s setup to catch the snapshot. */
export function collectAlerts(socket: LiveClient): {
  snapshots: AlertEvent[][];
  events: AlertEvent[];
  waitForEvent(
    match: (event: AlertEvent) => boolean,
    what: string,
    timeoutMs?: number,
  ): Promise<AlertEvent>;
} {
  const state = {
    snapshots: [] as AlertEvent[][],
    events: [] as AlertEvent[],
    waitForEvent: (match: (event: AlertEvent) => boolean, what: string, timeoutMs = 10_000) =>
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

/** A JSON request (POST/PUT/DELETE...); the body of a 204 is null. */
export async function sendJson<T = unknown>(
  url: string,
  method: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text ? JSON.parse(text) : null) as T,
  };
}

export async function getJson<T = unknown>(url: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as T };
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
