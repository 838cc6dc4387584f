import type { DeviceInfo, MetricSeries, Reading } from './model';
import type { AckResponse } from './alerts';
import type { LiveAckRequest } from './alerts.schema';
import type { SubscribeRequest, UnsubscribeRequest } from './live.schema';

/*
 * The live (Socket.IO) contract without zod: namespace, event names, room builders, payload
 * types and the typed event maps. Part of the zod-free core entry: it must not import zod or
 * any `*.schema.ts` value (request schemas live in `live.schema.ts`; the types above are
 * type-only imports, erased on build).
 */

/** Socket.IO namespace for live data. */
export const LIVE_NAMESPACE = '/live';

/** Event names, in one place. */
export const LiveEvent = {
  subscribe: 'subscribe',
  unsubscribe: 'unsubscribe',
  readings: 'readings',
  device: 'device',
  gateway: 'gateway',
  alert: 'alert',
  lagged: 'lagged',
  alerts: 'alerts',
  ack: 'ack',
} as const;

/** Rooms: one per device, one per group, and one for the whole fleet. */
export const FLEET_ROOM = 'fleet';
export const deviceRoom = (deviceId: string): string => `device:${deviceId}`;
export const groupRoom = (group: string): string => `group:${group}`;

export type LiveError = { ok: false; error: string };

/** Acknowledgement of `subscribe`: the snapshot; live `readings` follow. */
export type SubscribeAck =
  | {
      ok: true;
      /** Server clock when the snapshot was taken; re-subscribe with `since` from the last ts held. */
      serverTime: number;
      devices: DeviceInfo[];
      history: MetricSeries[];
      rooms: string[];
    }
  | LiveError;

export type UnsubscribeAck = { ok: true; rooms: string[] } | LiveError;

/** Health of the gateway as seen by clients (`gateway` event, sent on connect and on change). */
export interface GatewayStatus {
  broker: 'connected' | 'disconnected';
  serverTime: number;
  /** Flush interval of the live hub in ms. */
  flushMs: number;
}

export type AlertSeverity = 'critical' | 'major' | 'minor' | 'warning' | 'info';
export type AlertState = 'raised' | 'acknowledged' | 'cleared' | 'flapping';

/** Alert lifecycle event (`alert`). */
export interface AlertEvent {
  id: string;
  ruleId: string;
  deviceId: string;
  metric: string | null;
  severity: AlertSeverity;
  state: AlertState;
  message: string;
  value: number | null;
  raisedAt: number;
  acknowledgedAt: number | null;
  acknowledgedBy: string | null;
  clearedAt: number | null;
  /** Name of the rule (defaults to its id), for display. */
  ruleName: string;
  /**
   * The level that was crossed: the threshold level (for `outside`, the bound crossed),
   * the rate limit, or the silence in ms for no-data; null for offline.
   */
  threshold: number | null;
  /** Time of this lifecycle change (reading timestamp for threshold/rate, server clock otherwise). */
  updatedAt: number;
  /** True while raise/clear cycles exceed the flap limit: one alert instead of a storm. */
  flapping: boolean;
  /** Times the condition was raised while this alert stayed open (1 for a fresh alert). */
  count: number;
  /** Still on the active list; false once cleared and acknowledged (drop it from the list). */
  active: boolean;
  /** Note given with the acknowledgement. */
  ackNote: string | null;
}

/**
 * Sent when the gateway stops sending readings to a connection that fell behind (its socket
 * buffers are full). It is queued behind the backlog, so the client reads it once it has
 * caught up with what was sent. Readings from `since` (server clock, ms) on are not sent to
 * this connection until it re-subscribes: with `since` = the newest reading time it holds,
 * which refills the gap from history and resumes live readings.
 */
export interface LaggedEvent {
  since: number;
}

export interface ServerToClientEvents {
  readings: (readings: Reading[]) => void;
  device: (device: DeviceInfo) => void;
  gateway: (status: GatewayStatus) => void;
  alert: (alert: AlertEvent) => void;
  lagged: (info: LaggedEvent) => void;
  /** Snapshot of the active alerts, sent on connect; `alert` deltas follow. */
  alerts: (alerts: AlertEvent[]) => void;
}

export interface ClientToServerEvents {
  subscribe: (request: SubscribeRequest, ack: (response: SubscribeAck) => void) => void;
  unsubscribe: (request: UnsubscribeRequest, ack: (response: UnsubscribeAck) => void) => void;
  /** Acknowledge an alert (same as `POST /api/alerts/:id/ack`). */
  ack: (request: LiveAckRequest, ack: (response: AckResponse) => void) => void;
}
