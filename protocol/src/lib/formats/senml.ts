import { FormatReading, FormatResult, SkippedField, toId } from './format';

/*
 * The `senml` format (RFC 8428, JSON): a pack of records with base fields (`bn`, `bt`, `bu`,
 * `bv`) that apply to the records after them. Resolved name = base name + name, time = base time
 * + time in seconds (below 2^28 it is relative to now), value = base value + value; `vb` booleans
 * as 1/0, `vs`/`vd` texts and data skipped and reported, units into `units`. The device is the
 * base name (a trailing `:` or `/` dropped) when there is one, the metric the record's name;
 * without a base name the device is the source's and the metric the whole name. Records of one
 * device at one time are one reading. Owns that mapping only.
 */

const RELATIVE_LIMIT_S = 2 ** 28;

interface Base {
  bn: string;
  bt: number;
  bu?: string;
  bv: number;
}

export function decodeSenml(text: string, now: number): FormatResult {
  let pack: unknown;
  try {
    pack = JSON.parse(text);
  } catch {
    return { readings: [], skipped: [], error: 'not JSON' };
  }
  if (!Array.isArray(pack)) return { readings: [], skipped: [], error: 'not a SenML pack (array)' };
  const base: Base = { bn: '', bt: 0, bv: 0 };
  const byKey = new Map<string, FormatReading>();
  const skipped: SkippedField[] = [];
  const units: Record<string, string> = {};
  for (const entry of pack) {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      skipped.push({ field: '(record)', reason: 'type' });
      continue;
    }
    const r = entry as Record<string, unknown>;
    if (typeof r['bn'] === 'string') base.bn = r['bn'];
    if (typeof r['bt'] === 'number') base.bt = r['bt'];
    if (typeof r['bu'] === 'string') base.bu = r['bu'];
    if (typeof r['bv'] === 'number') base.bv = r['bv'];
    const n = typeof r['n'] === 'string' ? r['n'] : '';
    const hasValue = ['v', 'vb', 'vs', 'vd', 's'].some((k) => k in r);
    if (!hasValue) continue; // a record of base fields only
    const device = base.bn ? (toId(base.bn.replace(/[:/]+$/, '')) ?? undefined) : undefined;
    const metric = base.bn ? n : `${base.bn}${n}`;
    if (!metric) {
      skipped.push({ field: '(unnamed)', reason: 'type' });
      continue;
    }
    let value: number | null = null;
    if (typeof r['v'] === 'number') value = base.bv + r['v'];
    else if (typeof r['vb'] === 'boolean') value = r['vb'] ? 1 : 0;
    if (value === null || !Number.isFinite(value)) {
      skipped.push({ field: metric, reason: 'vs' in r || 'vd' in r ? 'string' : 'type' });
      continue;
    }
    const seconds = base.bt + (typeof r['t'] === 'number' ? r['t'] : 0);
    const ts =
      seconds === 0
        ? undefined
        : Math.round(Math.abs(seconds) < RELATIVE_LIMIT_S ? now + seconds * 1000 : seconds * 1000);
    const key = `${device ?? ''}\u0000${ts ?? ''}`;
    let reading = byKey.get(key);
    if (!reading) {
      reading = { values: {}, ...(device ? { device } : {}), ...(ts !== undefined ? { ts } : {}) };
      byKey.set(key, reading);
    }
    reading.values[metric] = value;
    const unit = typeof r['u'] === 'string' ? r['u'] : base.bu;
    if (unit) units[metric] = unit;
  }
  return {
    readings: [...byKey.values()],
    skipped,
    ...(Object.keys(units).length ? { units } : {}),
  };
}
