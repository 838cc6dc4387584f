import {
  FormatReading,
  FormatResult,
  parseTimestamp,
  SkippedField,
  switchValue,
  TimestampFormat,
  parseObject,
  toId,
} from './format';

/*
 * The generic `json` format: any JSON object from a device (Tasmota SENSOR, zigbee2mqtt, ESPHome
 * JSON, a Shelly status …) as one reading. Nested numbers become dotted metric names
 * (`ENERGY.Power`), booleans and switch words (`ON`/`OFF`, `open`/`closed`) 1/0, and a list of
 * numbers one metric per channel numbered from 1 as the firmware numbers them (Tasmota's
 * multi-channel `"Power":[10,20]` → `ENERGY.Power.1`, `ENERGY.Power.2`); text, nulls and other
 * lists are skipped and reported, never fatal. A timestamp field (`ms`, `s` or `iso`) gives the
 * reading's time. Owns that mapping; must not validate metric names or limits (the contract
 * decoder does).
 */

export interface JsonOptions {
  /** Field holding the reading's time (dotted path allowed); absent: receive time. */
  timestampField?: string;
  timestampFormat?: TimestampFormat;
  /** Only these top-level paths (dotted prefix match); absent: everything. */
  include?: readonly string[];
  /** Paths left out on purpose (not reported as skipped). */
  exclude?: readonly string[];
  /** Keys left out on purpose wherever they are (a firmware's ids and clocks; not reported). */
  excludeKeys?: ReadonlySet<string>;
  /** Deepest nesting flattened (a guard against hostile payloads). */
  maxDepth?: number;
}

const DEFAULT_MAX_DEPTH = 4;
/**
 * Longest list read as channels (docs/limits.md): Tasmota meters have at most 8 phases or
 * channels, and a reading holds at most 64 metrics, so a longer list would refuse the whole
 * reading as `too_many_metrics`. Longer lists are skipped as `array`.
 */
export const MAX_ARRAY_CHANNELS = 8;

export function decodeJson(text: string, options: JsonOptions = {}): FormatResult {
  const body = parseObject(text);
  return 'error' in body ? body : decodeJsonObject(body.object, options);
}

/** An already-parsed object (a format that wraps it, like Shelly's RPC, passes its part here). */
export function decodeJsonObject(
  body: Record<string, unknown>,
  options: JsonOptions = {},
  prefix = '',
): FormatResult {
  const values: Record<string, number> = {};
  const skipped: SkippedField[] = [];
  const reading: FormatReading = { values };
  const tsField = options.timestampField;
  const walk = (node: Record<string, unknown>, path: string, depth: number) => {
    for (const rawKey of Object.keys(node)) {
      if (options.excludeKeys?.has(rawKey)) continue;
      // Shelly's `switch:0`, a zigbee2mqtt `color temp`: the key as a contract id.
      const key = toId(rawKey) ?? rawKey;
      const name = path ? `${path}.${key}` : key;
      if (tsField !== undefined && name === tsField) {
        const ts = parseTimestamp(node[rawKey], options.timestampFormat ?? 'ms');
        if (ts === null) skipped.push({ field: name, reason: 'timestamp' });
        else reading.ts = ts;
        continue;
      }
      if (options.exclude?.some((p) => name === p || name.startsWith(`${p}.`))) continue;
      if (
        options.include &&
        !options.include.some(
          (p) => name === p || name.startsWith(`${p}.`) || p.startsWith(`${name}.`),
        )
      )
        continue;
      const value = node[rawKey];
      if (typeof value === 'number') {
        if (Number.isFinite(value)) values[name] = value;
        else skipped.push({ field: name, reason: 'not_finite' });
      } else if (typeof value === 'boolean') values[name] = value ? 1 : 0;
      else if (typeof value === 'string') {
        const on = switchValue(value);
        if (on === null) skipped.push({ field: name, reason: 'string' });
        else values[name] = on;
      } else if (value === null) skipped.push({ field: name, reason: 'null' });
      else if (Array.isArray(value)) {
        if (!channels(value, name, values)) skipped.push({ field: name, reason: 'array' });
      } else if (typeof value === 'object' && depth < (options.maxDepth ?? DEFAULT_MAX_DEPTH))
        walk(value as Record<string, unknown>, name, depth + 1);
      else skipped.push({ field: name, reason: 'type' });
    }
  };
  walk(body, prefix, 0);
  return { readings: Object.keys(values).length > 0 ? [reading] : [], skipped };
}

/**
 * A list of numbers (or booleans) of 1 to {@link MAX_ARRAY_CHANNELS} as `name.1`, `name.2`, …
 * into `values`; false, writing nothing, for any other list (empty, too long, holding a text, a
 * null, a non-finite number or a list).
 */
function channels(list: unknown[], name: string, values: Record<string, number>): boolean {
  if (list.length === 0 || list.length > MAX_ARRAY_CHANNELS) return false;
  for (const item of list)
    if (typeof item !== 'boolean' && (typeof item !== 'number' || !Number.isFinite(item)))
      return false;
  for (let i = 0; i < list.length; i++) {
    const item = list[i];
    values[`${name}.${i + 1}`] = typeof item === 'boolean' ? (item ? 1 : 0) : (item as number);
  }
  return true;
}
