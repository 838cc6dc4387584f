import { ID_MAX_LENGTH, isValidId } from '../ids';

/*
 * What every payload format decoder returns, and the helpers they share. A decoder turns one
 * message's text into readings (numbers per metric, maybe a timestamp and a device named in the
 * payload), the fields it skipped and why, and what else the payload says (status, units). It
 * never throws and never validates ids, timestamps or limits: the contract decoder
 * (`decodeTelemetry`) does that for every format alike. Owns the shape and the shared helpers;
 * must not know topics or sources (the backend's ingest sources map those).
 */

/** One reading as a format found it, before the contract's checks. */
export interface FormatReading {
  /** A device named inside the payload (SenML base name, an Influx tag), already an id. */
  device?: string;
  /** Milliseconds since the epoch; absent: the receive time applies. */
  ts?: number;
  values: Record<string, number>;
}

/**
 * Why a field was left out: a text, a null, a list, or a value of no numeric meaning; a time that
 * could not be read, or (`future_timestamp`) a bridge's time too far ahead of the server's, the
 * receive time used instead.
 */
export type SkipReason =
  | 'string'
  | 'null'
  | 'array'
  | 'type'
  | 'not_finite'
  | 'timestamp'
  | 'future_timestamp';

export interface SkippedField {
  field: string;
  reason: SkipReason;
}

export interface FormatResult {
  readings: FormatReading[];
  skipped: SkippedField[];
  /**
   * Units per metric the payload declared (SenML `u`) or its firmware documents (a preset's
   * table: Tasmota's `ENERGY.Power` in W); absent when none is known.
   */
  units?: Record<string, string>;
  /** Set when the whole message could not be read (not JSON, not a line, …). */
  error?: string;
  /**
   * The message carries no readings by design (a Shelly `NotifyEvent`): a normal firmware
   * message, set aside and counted as such, never rejected as `empty`.
   */
  ignored?: true;
}

/** A payload as a JSON object, or the empty result that says why it is not one. */
export function parseObject(
  text: string,
): { object: Record<string, unknown> } | (FormatResult & { error: string }) {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { readings: [], skipped: [], error: 'not JSON' };
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return { readings: [], skipped: [], error: 'not a JSON object' };
  return { object: body as Record<string, unknown> };
}

/** How a timestamp field is written: epoch milliseconds, epoch seconds, or ISO 8601. */
export type TimestampFormat = 'ms' | 's' | 'iso';

/**
 * A timestamp value in `format` as epoch ms, or null when it is not one. ISO strings without a
 * zone are refused (a device's local time is not a time the server can place).
 */
export function parseTimestamp(value: unknown, format: TimestampFormat): number | null {
  if (format === 'iso') {
    if (typeof value !== 'string' || !/(Z|[+-]\d\d:?\d\d)$/.test(value)) return null;
    const ms = Date.parse(value);
    return Number.isFinite(ms) ? ms : null;
  }
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n)) return null;
  return format === 's' ? Math.round(n * 1000) : Math.round(n);
}

const ON = new Set(['on', 'true', 'open', 'online', 'yes']);
const OFF = new Set(['off', 'false', 'closed', 'offline', 'no']);

/** A switch-like text as 1 / 0 (`ON`, `OFF`, `true`, `open`, …, any case), else null. */
export function switchValue(text: string): number | null {
  const t = text.trim().toLowerCase();
  if (ON.has(t)) return 1;
  if (OFF.has(t)) return 0;
  return null;
}

/**
 * A name from outside (a SenML base name, an Influx tag, a topic level) as a contract id: every
 * run of characters outside `A-Z a-z 0-9 _ - .` becomes one `_`, ends trimmed of `_`, cut to
 * the id length. Null when nothing is left.
 */
export function toId(name: string): string | null {
  // Most keys are ids already (`Temperature`, `ENERGY`): no rewriting (the ingest's hot path).
  if (isValidId(name) && name.charCodeAt(0) !== 95 && name.charCodeAt(name.length - 1) !== 95)
    return name;
  const id = name
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, ID_MAX_LENGTH);
  return isValidId(id) ? id : null;
}

/**
 * The units of a reading's metrics by a firmware's table: `unitOf` is asked for each metric by
 * its last two names (`ENERGY`, `Power`; the parent '' at the top), a channel's number left off
 * (`ENERGY.Power.2` asks as `ENERGY.Power`). Undefined when no metric has one.
 */
export function unitsOf(
  values: Record<string, number>,
  unitOf: (parent: string, key: string, value: number) => string | undefined,
): Record<string, string> | undefined {
  let units: Record<string, string> | undefined;
  for (const metric in values) {
    // A channel `.1` … `.8` (json lists): the unit of the list's field.
    const dot = metric.lastIndexOf('.');
    const end = dot > 0 && isNumber(metric, dot + 1) ? dot : metric.length;
    const keyStart = metric.lastIndexOf('.', end - 1) + 1;
    const parentStart = keyStart > 0 ? metric.lastIndexOf('.', keyStart - 2) + 1 : 0;
    const key = metric.slice(keyStart, end);
    const parent = keyStart > 0 ? metric.slice(parentStart, keyStart - 1) : '';
    const unit = unitOf(parent, key, values[metric]);
    if (unit !== undefined) (units ??= {})[metric] = unit;
  }
  return units;
}

/** Whether `text` from `from` on is digits only (one at least). */
function isNumber(text: string, from: number): boolean {
  if (from >= text.length) return false;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** A firmware's units by field name, as a map (a payload's `constructor` is no unit). */
export function unitTable(units: Record<string, string>): ReadonlyMap<string, string> {
  return new Map(Object.entries(units));
}

/** The shape {@link nameToId} gives a name it rewrote: a hash of the whole name at the end. */
const HASHED_ID = /-[0-9a-f]{8}$/;
const utf8 = new TextEncoder();

/**
 * A device's name as it knows itself (a zigbee2mqtt friendly name: `Hall Sensor`,
 * `Kitchen/Plug 1`, `Büro`, `温度计`) as a contract id that is stable (the same in every release:
 * history and alerts are kept by id) and distinct (unlike {@link toId}, which reads `Hall Sensor`
 * and `Hall_Sensor` alike). A name that is an
 * id already stays itself (`0x00158d0001a2b3c4`, `Hall_Sensor`); any other becomes its readable
 * part (accents dropped, every other run of characters outside the id's as one `_`, cut to 55;
 * `device` when nothing is left) and `-` with the FNV-1a hash (32 bits, 8 hex digits) of the
 * name's UTF-8 bytes: `Hall Sensor` → `Hall_Sensor-6cea95e0`. An id-shaped name that ends like a
 * hash is rewritten too, so a kept name never equals a rewritten one; two rewritten names share
 * an id only if their readable parts and their hashes both agree. Null for an empty name.
 */
export function nameToId(name: string): string | null {
  if (name.length === 0) return null;
  if (isValidId(name) && !HASHED_ID.test(name)) return name;
  const readable = name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .slice(0, ID_MAX_LENGTH - 9)
    .replace(/^_+|_+$/g, '');
  return `${readable || 'device'}-${fnv1a(utf8.encode(name))}`;
}

/** FNV-1a, 32 bits, as 8 hex digits. */
function fnv1a(bytes: Uint8Array): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, '0');
}
