import { FormatResult, switchValue } from './format';

/*
 * The `value` format: a payload that is one value (`21.5`, `ON`, `true`) and a metric named by
 * the source (usually a topic segment: ESPHome's `<node>/sensor/<name>/state`, Tasmota's
 * `stat/<id>/POWER`). Owns that mapping only.
 */
export function decodeValue(text: string, metric: string): FormatResult {
  const t = text.trim();
  const n = t === '' ? NaN : Number(t);
  if (Number.isFinite(n)) return { readings: [{ values: { [metric]: n } }], skipped: [] };
  const on = switchValue(t);
  if (on !== null) return { readings: [{ values: { [metric]: on } }], skipped: [] };
  return { readings: [], skipped: [{ field: metric, reason: 'string' }] };
}
