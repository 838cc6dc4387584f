import { ALERT_SEVERITIES } from './alerts';
import { LIMITS } from './limits';
import type { AlertSeverity } from './live';
import type { DeviceSummary, FleetSummary, SummaryEvent } from './live';
import type { DeviceStatus } from './model';

/*
 * The fleet summary on the socket (the `subscribe {summary: true}` acknowledgement and the
 * `summary` events), version 2: the readable {@link DeviceSummary} tuples re-encoded without
 * losing anything, so 10,000 devices stay well under 1 MB (issue 11; docs/decisions/
 * 0023-compact-fleet-summary.md). Owns that encoding and its checks on what arrives; the
 * readable form stays the model of both ends and the body of `GET /api/fleet/summary`. Plain
 * code, zod-free (part of the core entry): must not import zod nor know about sockets.
 *
 * What is compacted, each measured on the simulator's 10,000 devices (997 kB in version 1):
 * - status and alert severity as their index in {@link DEVICE_STATUSES} / ALERT_SEVERITIES;
 * - the group as an index into the message's `groups` table;
 * - values without their nulls: `layouts` lists each distinct set of metric indices once, a
 *   device names its set and carries its values in that order (a power meter among temperature
 *   sensors was four `null`s);
 * - id and name front-coded: each keeps the first `keep` characters of the previous device's
 *   (in message order; the encoder sorts by name, so "Env sensor 00021 · Lab" after
 *   "Env sensor 00011 · Hall A" is `[14, "21 · Lab"]`).
 * Tables are per message: a group-scoped client never learns another group's name, and a
 * message reads on its own (only `metrics` is the gateway's, as in version 1).
 */

/** The encoding's version, in every message (`v`): a client refuses another. */
export const SUMMARY_WIRE_VERSION = 2;

/** Device statuses by their wire code (the index). */
export const DEVICE_STATUSES: readonly DeviceStatus[] = ['offline', 'online', 'unknown'];

/**
 * One device on the wire. Decoded in message order: `id` is the previous device's id cut to its
 * first `idKeep` characters followed by `idRest` (the first device: `idKeep` 0); `name` likewise
 * from the previous device that had a name (`nameRest` null: no name); `group` indexes `groups`
 * (-1: none); `status` indexes DEVICE_STATUSES; `age` as in version 1 (ms before `at`, null if
 * never seen); `values[i]` is the latest value of metric `metrics[layouts[layout][i]]`
 * (a shorter `values` leaves the rest without a value); `alert`: [index in ALERT_SEVERITIES,
 * count], left out when none is active.
 */
export type WireDevice = [
  idKeep: number,
  idRest: string,
  nameKeep: number,
  nameRest: string | null,
  group: number,
  status: number,
  age: number | null,
  layout: number,
  values: number[],
  alert?: [severity: number, count: number],
];

/** Indices of the {@link WireDevice} fields. */
export const WD = {
  idKeep: 0,
  idRest: 1,
  nameKeep: 2,
  nameRest: 3,
  group: 4,
  status: 5,
  age: 6,
  layout: 7,
  values: 8,
  alert: 9,
} as const;

/** The tables a message's devices refer to. */
interface WireTables {
  v: typeof SUMMARY_WIRE_VERSION;
  /** Groups the message's devices are in. */
  groups: string[];
  /** Each distinct set of metric indices (into `metrics`) the message's devices have values for. */
  layouts: number[][];
}

/** The acknowledgement's `summary`, version 2 (decoded: {@link FleetSummary}). */
export interface FleetSummaryWire extends WireTables {
  at: number;
  metrics: string[];
  devices: WireDevice[];
}

/** The `summary` event, version 2 (decoded: {@link SummaryEvent}). */
export interface SummaryEventWire extends WireTables {
  at: number;
  changed: WireDevice[];
  removed: string[];
  metrics?: string[];
}

const byName = (a: DeviceSummary, b: DeviceSummary): number => {
  const x = a[1] ?? a[0];
  const y = b[1] ?? b[0];
  return x < y ? -1 : x > y ? 1 : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
};

function sharedPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let k = 0;
  while (k < n && a.charCodeAt(k) === b.charCodeAt(k)) k++;
  return k;
}

/** `devices` (any order; not mutated) as wire devices in name order, with their tables. */
function encodeDevices(devices: readonly DeviceSummary[]): WireTables & { devices: WireDevice[] } {
  const sorted = devices.slice().sort(byName);
  const groups: string[] = [];
  const groupIndex = new Map<string, number>();
  const layouts: number[][] = [];
  const layoutIndex = new Map<string, number>();
  const statusIndex = new Map(DEVICE_STATUSES.map((s, i) => [s, i]));
  const severityIndex = new Map(ALERT_SEVERITIES.map((s, i) => [s as AlertSeverity, i]));
  const out = new Array<WireDevice>(sorted.length);
  let previousId = '';
  let previousName = '';
  for (let d = 0; d < sorted.length; d++) {
    const device = sorted[d];
    const id = device[0];
    const name = device[1];
    const group = device[2];
    const values = device[5];
    const alert = device[6];
    let g = -1;
    if (group !== null) {
      g = groupIndex.get(group) ?? -1;
      if (g < 0) {
        g = groups.push(group) - 1;
        groupIndex.set(group, g);
      }
    }
    const indices: number[] = [];
    const dense: number[] = [];
    for (let i = 0; i < values.length; i++) {
      const value = values[i];
      if (value === null) continue;
      indices.push(i);
      dense.push(value);
    }
    const key = indices.join();
    let layout = layoutIndex.get(key);
    if (layout === undefined) {
      layout = layouts.push(indices) - 1;
      layoutIndex.set(key, layout);
    }
    const idKeep = sharedPrefix(id, previousId);
    previousId = id;
    let nameKeep = 0;
    let nameRest: string | null = null;
    if (name !== null) {
      nameKeep = sharedPrefix(name, previousName);
      nameRest = name.slice(nameKeep);
      previousName = name;
    }
    const wire: WireDevice = [
      idKeep,
      id.slice(idKeep),
      nameKeep,
      nameRest,
      g,
      statusIndex.get(device[3]) ?? 2,
      device[4],
      layout,
      dense,
    ];
    if (alert) wire.push([severityIndex.get(alert[0]) ?? ALERT_SEVERITIES.length - 1, alert[1]]);
    out[d] = wire;
  }
  return { v: SUMMARY_WIRE_VERSION, groups, layouts, devices: out };
}

/** A readable summary as it goes on the socket. */
export function encodeFleetSummary(summary: FleetSummary): FleetSummaryWire {
  const { v, groups, layouts, devices } = encodeDevices(summary.devices);
  return { v, at: summary.at, metrics: summary.metrics, groups, layouts, devices };
}

/** A readable delta as it goes on the socket. */
export function encodeSummaryEvent(event: SummaryEvent): SummaryEventWire {
  const { v, groups, layouts, devices } = encodeDevices(event.changed);
  const wire: SummaryEventWire = {
    v,
    at: event.at,
    groups,
    layouts,
    changed: devices,
    removed: event.removed,
  };
  if (event.metrics) wire.metrics = event.metrics;
  return wire;
}

const isInt = (x: unknown): x is number => Number.isInteger(x);
const isStrings = (x: unknown): x is string[] =>
  Array.isArray(x) && x.every((s) => typeof s === 'string');

/** The tables, checked; null when they are not version 2's. */
function readTables(
  wire: Record<string, unknown>,
): { groups: string[]; layouts: number[][] } | null {
  if (wire['v'] !== SUMMARY_WIRE_VERSION || typeof wire['at'] !== 'number') return null;
  const { groups, layouts } = wire;
  if (!isStrings(groups) || !Array.isArray(layouts)) return null;
  const layoutOk = (l: unknown) =>
    Array.isArray(l) && l.every((i) => isInt(i) && i >= 0 && i < LIMITS.maxSummaryMetrics);
  if (!layouts.every(layoutOk)) return null;
  return { groups, layouts: layouts as number[][] };
}

/**
 * Wire devices back to readable tuples, in message order. An entry that does not read (a
 * gateway never sends one) is skipped; the next one is read against the last good one.
 */
function decodeDevices(
  list: unknown,
  { groups, layouts }: { groups: string[]; layouts: number[][] },
): DeviceSummary[] | null {
  if (!Array.isArray(list)) return null;
  const out: DeviceSummary[] = [];
  let previousId = '';
  let previousName = '';
  for (let d = 0; d < list.length; d++) {
    const wire: unknown = list[d];
    if (!Array.isArray(wire)) continue;
    const idKeep: unknown = wire[0];
    const idRest: unknown = wire[1];
    const nameKeep: unknown = wire[2];
    const nameRest: unknown = wire[3];
    const g: unknown = wire[4];
    const status: unknown = wire[5];
    const age: unknown = wire[6];
    const layout: unknown = wire[7];
    const values: unknown = wire[8];
    const alert: unknown = wire[9];
    if (!isInt(idKeep) || idKeep < 0 || idKeep > previousId.length) continue;
    if (typeof idRest !== 'string' || idKeep + idRest.length === 0) continue;
    const named = typeof nameRest === 'string';
    if (!named && nameRest !== null) continue;
    const keep = isInt(nameKeep) ? nameKeep : -1;
    if (named && (keep < 0 || keep > previousName.length)) continue;
    if (age !== null && typeof age !== 'number') continue;
    const indices = isInt(layout) ? layouts[layout] : undefined;
    if (!indices || !Array.isArray(values)) continue;
    const dense: (number | null)[] = [];
    for (let i = 0; i < indices.length && i < values.length; i++) {
      const value = values[i];
      if (typeof value !== 'number') continue;
      while (dense.length < indices[i]) dense.push(null);
      dense[indices[i]] = value;
    }
    const id = previousId.slice(0, idKeep) + idRest;
    previousId = id;
    let name: string | null = null;
    if (named) {
      name = previousName.slice(0, keep) + nameRest;
      previousName = name;
    }
    const device: DeviceSummary = [
      id,
      name,
      isInt(g) ? (groups[g] ?? null) : null,
      (isInt(status) && DEVICE_STATUSES[status]) || 'unknown',
      age,
      dense,
    ];
    if (Array.isArray(alert) && isInt(alert[0]) && typeof alert[1] === 'number') {
      const severity = ALERT_SEVERITIES[alert[0]];
      if (severity) device.push([severity, alert[1]]);
    }
    out.push(device);
  }
  return out;
}

/** A version 2 message's envelope and its devices (from its `list` field), or null. */
function readMessage(
  wire: unknown,
  list: 'devices' | 'changed',
): { w: Record<string, unknown>; devices: DeviceSummary[] } | null {
  if (!wire || typeof wire !== 'object') return null;
  const w = wire as Record<string, unknown>;
  const tables = readTables(w);
  const devices = tables && decodeDevices(w[list], tables);
  return devices ? { w, devices } : null;
}

/** The acknowledgement's `summary` as received (unknown JSON), readable; null when it does not read. */
export function decodeFleetSummary(wire: unknown): FleetSummary | null {
  const message = readMessage(wire, 'devices');
  if (!message || !isStrings(message.w['metrics'])) return null;
  const { w, devices } = message;
  return { at: w['at'] as number, metrics: w['metrics'] as string[], devices };
}

/** A `summary` event as received (unknown JSON), readable; null when it does not read. */
export function decodeSummaryEvent(wire: unknown): SummaryEvent | null {
  const message = readMessage(wire, 'changed');
  if (!message || !isStrings(message.w['removed'])) return null;
  const { w, devices } = message;
  const removed = w['removed'] as string[];
  const event: SummaryEvent = { at: w['at'] as number, changed: devices, removed };
  if (w['metrics'] !== undefined) {
    if (!isStrings(w['metrics'])) return null;
    event.metrics = w['metrics'];
  }
  return event;
}
