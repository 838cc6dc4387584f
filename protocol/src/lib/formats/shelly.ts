import { FormatResult, parseObject, toId, unitTable, unitsOf } from './format';
import { decodeJsonObject } from './json';

/*
 * The `shelly-rpc` format: a Shelly Gen2/Gen3 device's RPC notification on `<id>/events/rpc`
 * (`{"src": "shellyplus1pm-…", "method": "NotifyStatus", "params": {"ts": 1700000000.12,
 * "switch:0": {"apower": 12.3, …}}}`). NotifyStatus and NotifyFullStatus carry component
 * status: flattened like `json` (`switch_0.apower`, `switch_0.aenergy.total`), at `params.ts`
 * (seconds), for the device named by `src`. What the status holds that is not a measurement is
 * left out: component ids (`switch:0`'s `"id": 0`), clocks (`aenergy.minute_ts`, `sys.unixtime`),
 * the energy of past minutes (`aenergy.by_minute`, whose `total` is the reading) and
 * configuration revisions (`sys.cfg_rev`, …). Units as the Gen2 API documents its components
 * (https://shelly-api-docs.shelly.cloud/gen2/): `apower` W, `voltage` V, `current` A,
 * `aenergy.total` Wh, temperatures `tC` °C and `tF` °F, …. Other notifications (NotifyEvent: button pushes,
 * scheduled jobs) carry no readings: set aside (`ignored`), not an error. Owns that mapping only.
 */
const STATUS_METHODS = new Set(['NotifyStatus', 'NotifyFullStatus']);

/** Keys of Gen2 component status that are ids, clocks or revisions, wherever they are. */
const NOT_MEASUREMENTS: ReadonlySet<string> = new Set([
  'id',
  'minute_ts',
  'by_minute',
  'unixtime',
  'cfg_rev',
  'kvs_rev',
  'schedule_rev',
  'webhook_rev',
]);

/** Component status fields by name (`switch_0.apower`), or by parent and name (`aenergy.total`). */
const UNITS: ReadonlyMap<string, string> = unitTable({
  apower: 'W',
  voltage: 'V',
  current: 'A',
  freq: 'Hz',
  tC: '°C',
  tF: '°F',
  rh: '%',
  rssi: 'dBm',
  uptime: 's',
  'aenergy.total': 'Wh',
  'ret_aenergy.total': 'Wh',
  'battery.V': 'V',
  'battery.percent': '%',
});

export function decodeShellyRpc(text: string): FormatResult {
  const body = parseObject(text);
  if ('error' in body) return body;
  const rpc = body.object;
  if (typeof rpc['method'] !== 'string')
    return { readings: [], skipped: [], error: 'not a Shelly RPC notification' };
  if (!STATUS_METHODS.has(rpc['method'])) return { readings: [], skipped: [], ignored: true };
  const params = rpc['params'];
  if (params === null || typeof params !== 'object' || Array.isArray(params))
    return { readings: [], skipped: [], error: 'NotifyStatus without params' };
  const result = decodeJsonObject(params as Record<string, unknown>, {
    timestampField: 'ts',
    timestampFormat: 's',
    excludeKeys: NOT_MEASUREMENTS,
  });
  const device = typeof rpc['src'] === 'string' ? toId(rpc['src']) : null;
  if (device) for (const r of result.readings) r.device = device;
  const reading = result.readings[0];
  const units =
    reading &&
    unitsOf(reading.values, (parent, key) => UNITS.get(`${parent}.${key}`) ?? UNITS.get(key));
  return units ? { ...result, units } : result;
}
