import { FormatResult, parseObject, toId } from './format';
import { decodeJsonObject } from './json';

/*
 * The `shelly-rpc` format: a Shelly Gen2/Gen3 device's RPC notification on `<id>/events/rpc`
 * (`{"src": "shellyplus1pm-…", "method": "NotifyStatus", "params": {"ts": 1700000000.12,
 * "switch:0": {"apower": 12.3, …}}}`). NotifyStatus and NotifyFullStatus carry component
 * status: flattened like `json` (`switch_0.apower`, `switch_0.aenergy.total`), at `params.ts`
 * (seconds), for the device named by `src`. Other notifications (NotifyEvent) carry no
 * readings and are not an error. Owns that mapping only.
 */
const STATUS_METHODS = new Set(['NotifyStatus', 'NotifyFullStatus']);

export function decodeShellyRpc(text: string): FormatResult {
  const body = parseObject(text);
  if ('error' in body) return body;
  const rpc = body.object;
  if (typeof rpc['method'] !== 'string')
    return { readings: [], skipped: [], error: 'not a Shelly RPC notification' };
  if (!STATUS_METHODS.has(rpc['method'])) return { readings: [], skipped: [] };
  const params = rpc['params'];
  if (params === null || typeof params !== 'object' || Array.isArray(params))
    return { readings: [], skipped: [], error: 'NotifyStatus without params' };
  const result = decodeJsonObject(params as Record<string, unknown>, {
    timestampField: 'ts',
    timestampFormat: 's',
  });
  const device = typeof rpc['src'] === 'string' ? toId(rpc['src']) : null;
  if (device) for (const r of result.readings) r.device = device;
  return result;
}
