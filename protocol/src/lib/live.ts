import type { DeviceInfo, DeviceStatus, Reading } from './model';
import type { AckResponse } from './alerts';
import type { AlertRuleKind, LiveAckRequest } from './alerts.schema';
import type { SubscribeRequest, UnsubscribeRequest } from './live.schema';
import type { FleetSummaryWire, SummaryEventWire } from './summary-wire';
import type { WireSeries } from './series-wire';

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
  devices: 'devices',
  gateway: 'gateway',
  alert: 'alert',
  lagged: 'lagged',
  alerts: 'alerts',
  alertsVersion: 'alertsVersion',
  ack: 'ack',
  summary: 'summary',
  throttle: 'throttle',
} as const;

/** Rooms: one per device, one per group, and one for the whole fleet. */
export const FLEET_ROOM = 'fleet';
export const deviceRoom = (deviceId: string): string => `device:${deviceId}`;
export const groupRoom = (group: string): string => `group:${group}`;
/** Room of the sockets that asked for the fleet summary (`subscribe` with `summary: true`). */
export const SUMMARY_ROOM = 'summary';

/** Pushes of the fleet summary are at least this far apart (ms): one `summary` event a second. */
export const SUMMARY_PUSH_MS = 1000;

export type LiveError = { ok: false; error: string };

/**
 * A client re-subscribes (after a reconnect or `lagged`) with `since` this much before the newest
 * reading time it holds, not at it: with several gateways a reading relayed from the gateway that
 * ingested it can arrive after a newer one the client's own gateway ingested, and a gateway that
 * dies in between leaves the older one out of a `since` at the newest (clients keep one point per
 * ts, so the overlap costs a few repeated points).
 */
export const RESUBSCRIBE_OVERLAP_MS = 5_000;

/** Acknowledgement of `subscribe`: the snapshot; live `readings` follow. */
export type SubscribeAck =
  | {
      ok: true;
      /**
       * Server clock when the snapshot was taken; re-subscribe with `since` from the last ts held
       * less RESUBSCRIBE_OVERLAP_MS.
       */
      serverTime: number;
      devices: DeviceInfo[];
      /** Plain series, or with time deltas when the request said `timeDeltas: true` (`fromWire`). */
      history: WireSeries[];
      rooms: string[];
      /**
       * The whole fleet summary (a scoped principal: its groups), when `summary: true` was asked,
       * in the compact wire form (`decodeFleetSummary` reads it; summary-wire.ts).
       */
      summary?: FleetSummaryWire;
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
  /**
   * The kind of rule that raised it (`threshold`, `rate`, `nodata`, `offline`): what `value` and
   * `threshold` mean. Always set: an event stored by a gateway from before this field gets it as
   * the gateway loads it (backend alerts/stored-alert-event.ts).
   */
  kind: AlertRuleKind;
  deviceId: string;
  metric: string | null;
  severity: AlertSeverity;
  state: AlertState;
  message: string;
  /** The reading (threshold), the rate (rate) or the silence in ms (no-data); null for offline. */
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
 * An `alert` event on the wire: the alert's new state, and `v`, the number of the change in the
 * gateway's active-list version (`<boot>.<v>`, see {@link AlertsVersionEvent}). A client that read
 * the list at version `<boot>.<n>` over HTTP skips the deltas with `v <= n`: the list holds them.
 */
export interface AlertDelta extends AlertEvent {
  v: number;
}

/**
 * The `alertsVersion` greeting (docs/decisions/0054-alerts-snapshot-over-http.md): the gateway's
 * active-list version when the client connected. `GET /api/alerts` answers the list with its
 * version, this one or later (same `<boot>`: the same gateway process); the client applies the
 * `alert` deltas whose `v` is above the answer's, in the order they arrive.
 */
export interface AlertsVersionEvent {
  version: string;
}

/**
 * Sent when the gateway stops sending readings to a connection that fell behind (its socket
 * buffers are full). It is queued behind the backlog, so the client reads it once it has
 * caught up with what was sent. Readings from `since` (server clock, ms) on are not sent to
 * this connection until it re-subscribes: with `since` = the newest reading time it holds
 * (less RESUBSCRIBE_OVERLAP_MS), which refills the gap from history and resumes live readings.
 */
export interface LaggedEvent {
  since: number;
}

/**
 * One device in the fleet summary, as a tuple (object keys repeated per device were a quarter of
 * it, docs/decisions/0014-fleet-summary.md): the readable form, of `GET /api/fleet/summary` and of
 * both ends' models. On the socket it travels re-encoded ({@link WireDevice} in summary-wire.ts,
 * docs/decisions/0023-compact-fleet-summary.md). Read the fields by the {@link DS} indices.
 */
export type DeviceSummary = [
  id: string,
  /** Display name (meta `name`), null when none. */
  name: string | null,
  /** Group (meta `group`), null when none. */
  group: string | null,
  status: DeviceStatus,
  /** Last seen (server time of its last message of any kind) as ms before the summary's `at`; null if never. */
  age: number | null,
  /**
   * Latest value per metric, aligned with the summary's `metrics` table: `values[i]` is the latest
   * value of `metrics[i]`, null where the device has none (trailing nulls are left out); rounded to
   * 6 significant digits (readings and history keep every digit).
   */
  values: (number | null)[],
  /**
   * Alerts whose condition is on (active and not cleared: one cleared and waiting for an
   * acknowledgement is not counted): the highest severity and how many; left out when none is.
   */
  alert?: [severity: AlertSeverity, count: number],
];

/** Indices of the {@link DeviceSummary} fields. */
export const DS = { id: 0, name: 1, group: 2, status: 3, age: 4, values: 5, alert: 6 } as const;

/**
 * The fleet summary, readable: the body of `GET /api/fleet/summary` and what
 * `decodeFleetSummary` makes of the acknowledgement's `summary` ({@link FleetSummaryWire}).
 * `metrics` is the gateway's table of metric names, append-only while it runs (indices stay
 * valid; a restart starts a new table and clients re-subscribe anyway). A group-scoped client's
 * table names only the metrics its devices have values for, with `''` at every other index (the
 * indices stay the fleet's); a `''` may later become a name (see {@link SummaryEvent}), so keep
 * the table a client was last sent whole, never only its new tail.
 */
export interface FleetSummary {
  /** Server time the summary was taken (ms since epoch); each device's `age` counts back from it. */
  at: number;
  metrics: string[];
  devices: DeviceSummary[];
}

/**
 * `summary` event, readable (on the socket: {@link SummaryEventWire}, read by
 * `decodeSummaryEvent`): what changed since the previous push, at most one a second
 * ({@link SUMMARY_PUSH_MS}). Apply `removed` first, then `changed`: `removed` lists devices that
 * left the fleet (evicted, or removed by an admin with `DELETE /api/devices/:id`) — or, for a
 * group-scoped client, left its groups; `changed` replaces
 * (or adds) the client's entries with these ids whole (a device evicted and back within one
 * second is in both). `metrics`: the whole table again, to replace the one held: when it grew
 * since the last push, or, for a group-scoped client, when one of its devices came to have a value
 * for a metric it had not been named yet (a `''` of its table becomes that name).
 */
export interface SummaryEvent {
  at: number;
  changed: DeviceSummary[];
  removed: string[];
  metrics?: string[];
}

/**
 * `GET /api/fleet/summary`: one page of the summary after sort and search, with the total matched,
 * the fleet's size and its groups: what a dashboard needs to lay out the whole list (a row per
 * place, headings with counts) while holding only the page it shows.
 */
export interface FleetSummaryPage extends FleetSummary {
  /** Devices matching `q` and `group` (before offset/limit). */
  total: number;
  /** Devices in the caller's scope, matching or not. */
  fleet: number;
  /**
   * Every group in the caller's scope with how many of its devices match, by name, devices
   * without a group (`name` null) last; at most `LIMITS.maxSummaryGroups` (then
   * {@link groupsTruncated}). With `grouped`, the page's order is these groups' in turn.
   */
  groups: FleetGroupCount[];
  /** More groups than `LIMITS.maxSummaryGroups`: `groups` lists the first by name only. */
  groupsTruncated?: true;
}

/** A group of the fleet and how many of its devices match the query. */
export interface FleetGroupCount {
  name: string | null;
  count: number;
}

/**
 * `throttle`: this connection's effective rate changed. `intervalMs` > 0: the client could not
 * keep up (or the gateway cannot), so it gets merged readings (newest value per metric with the
 * range of what was merged, see {@link Reading}) at most once per `intervalMs`; 0: every reading
 * again. Sent behind what is queued, so the client reads it in order with the readings.
 */
export interface ThrottleEvent {
  intervalMs: number;
}

export interface ServerToClientEvents {
  readings: (readings: Reading[]) => void;
  /**
   * Devices whose status or meta changed, each once with its newest state, batched per
   * `DEVICE_EVENTS_MS` (a fleet reconnecting after a restart is a few events a second, not one
   * per device per screen).
   */
  devices: (devices: DeviceInfo[]) => void;
  gateway: (status: GatewayStatus) => void;
  /** One alert's change, with `v`: the gateway's active-list version it makes (see AlertDelta). */
  alert: (alert: AlertDelta) => void;
  lagged: (info: LaggedEvent) => void;
  /** Snapshot of the active alerts, sent on connect; `alert` deltas follow. */
  alerts: (alerts: AlertEvent[]) => void;
  /**
   * Instead of the `alerts` snapshot, to a client that asked in its handshake
   * (`auth.alerts: 'http'`): the active list is read with `GET /api/alerts` (see
   * {@link AlertsVersionEvent}).
   */
  alertsVersion: (info: AlertsVersionEvent) => void;
  /** Fleet summary deltas, to sockets subscribed with `summary: true` (compact wire form). */
  summary: (delta: SummaryEventWire) => void;
  /** The connection's effective readings rate changed (conflation under pressure). */
  throttle: (info: ThrottleEvent) => void;
}

export interface ClientToServerEvents {
  subscribe: (request: SubscribeRequest, ack: (response: SubscribeAck) => void) => void;
  unsubscribe: (request: UnsubscribeRequest, ack: (response: UnsubscribeAck) => void) => void;
  /** Acknowledge an alert (same as `POST /api/alerts/:id/ack`). */
  ack: (request: LiveAckRequest, ack: (response: AckResponse) => void) => void;
}
