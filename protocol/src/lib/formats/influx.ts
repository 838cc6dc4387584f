import { FormatReading, FormatResult, SkippedField, toId } from './format';

/*
 * The `influx` format: InfluxDB line protocol, one point per line
 * (`measurement,tag=v,tag=v field=1.5,count=3i,ok=t,label="x" 1465839830100400200`), with its
 * escapes (`\ `, `\,`, `\=` in names and tags, `\"` in string fields), comment lines and a
 * timestamp in the configured precision (ns by default, as Influx writes). The device is a tag
 * (the first of `deviceTags` present) or else the measurement; metrics are `measurement.field`,
 * or the field alone when the measurement names the device. Integers (`i`, `u`), floats and
 * booleans are values; string fields are skipped and reported. Owns the parsing only.
 */

export type Precision = 'ns' | 'us' | 'ms' | 's';

export interface InfluxOptions {
  /** Tags that name the device, first present wins. Default: device, host. */
  deviceTags?: readonly string[];
  precision?: Precision;
}

const TO_MS: Record<Precision, number> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1000 };

/** Splits at `sep` outside backslash escapes and double quotes. */
function split(text: string, sep: string, quotes: boolean): string[] {
  const parts: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length) {
      cur += c + text[++i];
      continue;
    }
    if (quotes && c === '"') quoted = !quoted;
    if (c === sep && !quoted) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

const unescape = (s: string) => s.replace(/\\([ ,="\\])/g, '$1');

/** The index of the first `=` not escaped. */
function equalsAt(s: string): number {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\') i++;
    else if (s[i] === '=') return i;
  }
  return -1;
}

function fieldValue(raw: string): number | 'string' | null {
  if (raw.startsWith('"')) return 'string';
  if (/^[tT](rue|RUE)?$/.test(raw)) return 1;
  if (/^[fF](alse|ALSE)?$/.test(raw)) return 0;
  const n = Number(/^-?\d+[iu]$/.test(raw) ? raw.slice(0, -1) : raw);
  return raw !== '' && Number.isFinite(n) ? n : null;
}

export function decodeInflux(text: string, options: InfluxOptions = {}): FormatResult {
  const deviceTags = options.deviceTags ?? ['device', 'host'];
  const scale = TO_MS[options.precision ?? 'ns'];
  const readings: FormatReading[] = [];
  const skipped: SkippedField[] = [];
  let bad = 0;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const sections = split(line, ' ', true).filter((s) => s !== '');
    if (sections.length < 2 || sections.length > 3) {
      bad++;
      continue;
    }
    const [head, ...tagParts] = split(sections[0], ',', false);
    const measurement = unescape(head);
    const tags = new Map<string, string>();
    for (const t of tagParts) {
      const eq = equalsAt(t);
      if (eq > 0) tags.set(unescape(t.slice(0, eq)), unescape(t.slice(eq + 1)));
    }
    const tagged = deviceTags.map((t) => tags.get(t)).find((v) => v !== undefined);
    const device = toId(tagged ?? measurement) ?? undefined;
    const values: Record<string, number> = {};
    for (const f of split(sections[1], ',', true)) {
      const eq = equalsAt(f);
      if (eq <= 0) continue;
      const field = unescape(f.slice(0, eq));
      const metric = tagged !== undefined ? `${measurement}.${field}` : field;
      const value = fieldValue(f.slice(eq + 1));
      if (typeof value === 'number') values[metric] = value;
      else skipped.push({ field: metric, reason: value === 'string' ? 'string' : 'type' });
    }
    if (Object.keys(values).length === 0) continue;
    const reading: FormatReading = { values, ...(device ? { device } : {}) };
    if (sections[2] !== undefined) {
      const ts = Number(sections[2]);
      if (Number.isFinite(ts)) reading.ts = Math.round(ts * scale);
      else skipped.push({ field: '(timestamp)', reason: 'timestamp' });
    }
    readings.push(reading);
  }
  if (readings.length === 0 && bad > 0)
    return { readings, skipped, error: `${bad} line(s) not in line protocol` };
  return { readings, skipped };
}
