import { LIMITS } from '../limits';
import { FormatResult, parseObject, parseTimestamp, unitTable, unitsOf } from './format';
import { decodeJsonObject } from './json';

/*
 * The `zigbee2mqtt` format: a zigbee2mqtt device message (`zigbee2mqtt/<friendly name>`), read
 * like `json` (numbers, booleans such as `occupancy`, `ON`/`OFF` states), its `last_seen` as the
 * reading's time, with the units zigbee2mqtt's device pages give its exposed properties
 * (https://www.zigbee2mqtt.io/devices/). Owns that mapping only.
 *
 * `last_seen` is written as the bridge's `advanced.last_seen` says: ISO 8601 (UTC or with its
 * offset) or `epoch` milliseconds. It is the bridge's clock, not the device's: it says when the
 * bridge heard the device, so it is normally the receive time give or take the network. A
 * bridge clock ahead of the server's by more than the contract allows (`maxFutureSkewMs`, a host
 * with its time zone or clock set wrong) would have every reading refused as `future_timestamp`;
 * the receive time is used instead and the field reported skipped as `future_timestamp`. A
 * `last_seen` in the past is kept: a retained message read after a restart is that old.
 */

/**
 * What a topic under zigbee2mqtt's base topic says, from its levels after the base: a device's
 * state (`<friendly name>`), its availability (`<friendly name>/availability`), or one of
 * zigbee2mqtt's own topics, set aside: the bridge's (`bridge/…`), commands to a device
 * (`<name>/set`, `<name>/set/<property>`, `<name>/get…`, `<name>/<endpoint>/set`) and the copy of
 * an action it publishes for Home Assistant (`<name>/action`). A friendly name may hold `/`
 * (`Kitchen/Plug 1`), so these words are read as zigbee2mqtt's wherever they end a topic (or
 * precede its last level, for set/get), never as part of a name: a device named `Hall/set` or
 * `Desk/availability` is not read. zigbee2mqtt itself refuses names that start or end with `/`
 * or end with `/<digits>`. Null when no level is left.
 */
export type Zigbee2mqttTopic =
  | { role: 'state' | 'availability'; name: string }
  | { role: 'ignored' };

const COMMANDS = new Set(['set', 'get']);

export function zigbee2mqttTopic(levels: readonly string[]): Zigbee2mqttTopic | null {
  const n = levels.length;
  if (n === 0) return null;
  if (levels[0] === 'bridge') return { role: 'ignored' };
  if (n >= 2) {
    const last = levels[n - 1];
    if (COMMANDS.has(last) || last === 'action' || (n >= 3 && COMMANDS.has(levels[n - 2])))
      return { role: 'ignored' };
    if (last === 'availability')
      return { role: 'availability', name: levels.slice(0, -1).join('/') };
  }
  return { role: 'state', name: n === 1 ? levels[0] : levels.join('/') };
}

/** Exposed properties by name (zigbee2mqtt reports temperatures in °C whatever the device). */
const UNITS: ReadonlyMap<string, string> = unitTable({
  temperature: '°C',
  device_temperature: '°C',
  local_temperature: '°C',
  humidity: '%',
  soil_moisture: '%',
  battery: '%',
  linkquality: 'lqi',
  power: 'W',
  energy: 'kWh',
  current: 'A',
  pressure: 'hPa',
  illuminance_lux: 'lx',
  co2: 'ppm',
  pm25: 'µg/m³',
});

/**
 * `voltage` is two properties under one name: a mains device's (`e.voltage()`, in V) and a
 * battery device's (`e.battery_voltage()`, in mV). No mains reads 1 000 V and no battery that
 * still reports reads below 1 000 mV.
 */
const voltageUnit = (value: number) => (value >= 1000 ? 'mV' : 'V');

/** @param now the receive time (a `last_seen` too far ahead of it is not used). */
export function decodeZigbee2mqtt(text: string, now: number): FormatResult {
  const body = parseObject(text);
  if ('error' in body) return body;
  const result = decodeJsonObject(body.object, { exclude: ['last_seen'] });
  const reading = result.readings[0];
  const lastSeen = body.object['last_seen'];
  if (lastSeen !== undefined && lastSeen !== null) {
    const ts = parseTimestamp(lastSeen, typeof lastSeen === 'number' ? 'ms' : 'iso');
    if (ts === null) result.skipped.push({ field: 'last_seen', reason: 'timestamp' });
    else if (ts > now + LIMITS.maxFutureSkewMs)
      result.skipped.push({ field: 'last_seen', reason: 'future_timestamp' });
    else if (reading) reading.ts = ts;
  }
  if (!reading) return result;
  const units = unitsOf(reading.values, (parent, key, value) =>
    parent !== '' ? undefined : key === 'voltage' ? voltageUnit(value) : UNITS.get(key),
  );
  return units ? { ...result, units } : result;
}
