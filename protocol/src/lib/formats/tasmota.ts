import { FormatResult, parseObject, unitTable, unitsOf } from './format';
import { decodeJsonObject } from './json';

/*
 * The `tasmota` format: a Tasmota `tele/<topic>/SENSOR` or `STATE` message, read like `json`
 * (`ENERGY.Power`, a multi-channel meter's `ENERGY.Power.1`, `AM2301.Temperature`, `POWER` 1/0),
 * with the units Tasmota documents for its fields
 * (https://tasmota.github.io/docs/JSON-Status-Responses/): temperatures in the unit its
 * `TempUnit` field names (`C` or `F`, SetOption8), pressures in its `PressureUnit`, the energy
 * meter's in W, V, A, kWh…. Its `Time` is local time without a zone: skipped (the receive time
 * applies). Owns that mapping only.
 */

/** The energy meter's fields (`ENERGY.*`), per Tasmota's energy documentation. */
const ENERGY_UNITS: ReadonlyMap<string, string> = unitTable({
  Power: 'W',
  ApparentPower: 'VA',
  ReactivePower: 'var',
  Voltage: 'V',
  Current: 'A',
  Frequency: 'Hz',
  Total: 'kWh',
  Today: 'kWh',
  Yesterday: 'kWh',
  Period: 'Wh',
  ExportActive: 'kWh',
});

/** A sensor's fields by their own name, whichever sensor (`AM2301.Humidity`, `INA219.Power`). */
const SENSOR_UNITS: ReadonlyMap<string, string> = unitTable({
  Humidity: '%',
  Illuminance: 'lx',
  CarbonDioxide: 'ppm',
  Voltage: 'V',
  Current: 'A',
  Power: 'W',
});

/** STATE's fields (`Wifi.RSSI` is a quality in %, `Wifi.Signal` dBm). */
const STATE_UNITS: ReadonlyMap<string, string> = unitTable({
  UptimeSec: 's',
  'Wifi.RSSI': '%',
  'Wifi.Signal': 'dBm',
});

const TEMPERATURES = new Set(['Temperature', 'DewPoint']);
const PRESSURES = new Set(['Pressure', 'SeaPressure']);
/** Read as the units of other fields, not skipped as texts. */
const UNIT_FIELDS = ['TempUnit', 'PressureUnit'];

export function decodeTasmota(text: string): FormatResult {
  const body = parseObject(text);
  if ('error' in body) return body;
  const message = body.object;
  const result = decodeJsonObject(message, { exclude: UNIT_FIELDS });
  const tempUnit = message['TempUnit'] === 'C' || message['TempUnit'] === 'F';
  const temperature = tempUnit ? `°${message['TempUnit'] as string}` : undefined;
  const pressureUnit = message['PressureUnit'];
  const pressure =
    typeof pressureUnit === 'string' && pressureUnit.length > 0 && pressureUnit.length <= 16
      ? pressureUnit
      : undefined;
  const reading = result.readings[0];
  if (!reading) return result;
  const units = unitsOf(reading.values, (parent, key) => {
    if (parent === 'ENERGY') return ENERGY_UNITS.get(key);
    if (TEMPERATURES.has(key)) return temperature;
    if (PRESSURES.has(key)) return pressure;
    return (
      (parent ? STATE_UNITS.get(`${parent}.${key}`) : STATE_UNITS.get(key)) ?? SENSOR_UNITS.get(key)
    );
  });
  return units ? { ...result, units } : result;
}
