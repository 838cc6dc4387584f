import { FormatResult, parseObject, unitTable, unitsOf } from './format';
import { decodeJsonObject } from './json';

/*
 * The `zigbee2mqtt` format: a zigbee2mqtt device message (`zigbee2mqtt/<friendly name>`), read
 * like `json` (numbers, booleans such as `occupancy`, `ON`/`OFF` states), its `last_seen` as the
 * reading's time, with the units zigbee2mqtt's device pages give its exposed properties
 * (https://www.zigbee2mqtt.io/devices/). Owns that mapping only.
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

export function decodeZigbee2mqtt(text: string): FormatResult {
  const body = parseObject(text);
  if ('error' in body) return body;
  const result = decodeJsonObject(body.object, {
    timestampField: 'last_seen',
    timestampFormat: 'iso',
  });
  const reading = result.readings[0];
  if (!reading) return result;
  const units = unitsOf(reading.values, (parent, key, value) =>
    parent !== '' ? undefined : key === 'voltage' ? voltageUnit(value) : UNITS.get(key),
  );
  return units ? { ...result, units } : result;
}
