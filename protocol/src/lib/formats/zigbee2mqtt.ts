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
