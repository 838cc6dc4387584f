import { HA_DISCOVERY_FILTERS } from '@pulse/protocol';
import type { PresetName } from '../../config/preset-names';
import type { SourceSpec } from './source-spec';

/**
 * The presets usable by name (`INGEST_PRESETS=tasmota,zigbee2mqtt`): the topics and payloads each
 * firmware publishes out of the box, mapped to Pulse devices. Owns the mapping per firmware only.
 */
export const PRESETS: Record<PresetName, readonly SourceSpec[]> = {
  // Tasmota: `tele/<topic>/SENSOR` (sensors, energy), `tele/<topic>/STATE` (POWER, Wifi.RSSI, …)
  // and the LWT `tele/<topic>/LWT` Online/Offline. Its `Time` is local time without a zone: the
  // receive time is used instead. Units from the format's table and `TempUnit`.
  tasmota: [
    {
      name: 'tasmota',
      topic: 'tele/+/SENSOR',
      kind: 'telemetry',
      device: { segment: 1 },
      format: 'tasmota',
    },
    {
      name: 'tasmota',
      topic: 'tele/+/STATE',
      kind: 'telemetry',
      device: { segment: 1 },
      format: 'tasmota',
    },
    {
      name: 'tasmota',
      topic: 'tele/+/LWT',
      kind: 'status',
      device: { segment: 1 },
      format: 'value',
    },
  ],
  // zigbee2mqtt: one JSON object per device on `zigbee2mqtt/<friendly name>` (a name may hold `/`:
  // the whole base topic is read), availability on `zigbee2mqtt/<name>/availability`; its bridge
  // and command topics are set aside (see zigbee2mqttTopic in the contract library).
  zigbee2mqtt: [
    {
      name: 'zigbee2mqtt',
      topic: 'zigbee2mqtt/#',
      kind: 'telemetry',
      device: { friendlyName: true },
      format: 'zigbee2mqtt',
    },
    {
      name: 'zigbee2mqtt',
      topic: 'zigbee2mqtt/#',
      kind: 'status',
      device: { friendlyName: true },
      format: 'json',
    },
  ],
  // Shelly Gen2/Gen3: RPC notifications on `<id>/events/rpc` (the device named by `src`), and
  // `<id>/online` true/false.
  shelly: [
    {
      name: 'shelly',
      topic: '+/events/rpc',
      kind: 'telemetry',
      device: { segment: 0 },
      format: 'shelly-rpc',
    },
    { name: 'shelly', topic: '+/online', kind: 'status', device: { segment: 0 }, format: 'value' },
  ],
  // Home Assistant MQTT discovery (opt-in: docs/decisions/0024, addendum): the retained
  // announcements, then the state and availability topics they name (subscribed as announced,
  // ingest/sources/ha-discovery.ts). The birth / LWT topics of the firmware that announces are
  // read too: devices publish them before their announcement, and on the embedded broker a
  // topic nobody names is refused.
  homeassistant: [
    ...HA_DISCOVERY_FILTERS.map((topic) => ({
      name: 'homeassistant',
      topic,
      kind: 'telemetry' as const,
      device: { payload: true as const },
      format: 'ha-discovery' as const,
    })),
    ...[
      '+/status', // ESPHome
      'tele/+/LWT', // Tasmota
      '+/online', // Shelly
      'zigbee2mqtt/bridge/state',
      'zigbee2mqtt/+/availability',
    ].map((topic) => ({
      name: 'homeassistant',
      topic,
      kind: 'status' as const,
      device: { payload: true as const },
      format: 'ha-discovery' as const,
    })),
  ],
  // ESPHome: one value per entity on `<node>/<domain>/<entity>/state`, `<node>/status`.
  esphome: [
    {
      name: 'esphome',
      topic: '+/sensor/+/state',
      kind: 'telemetry',
      device: { segment: 0 },
      format: 'value',
      metric: { segment: 2 },
    },
    {
      name: 'esphome',
      topic: '+/binary_sensor/+/state',
      kind: 'telemetry',
      device: { segment: 0 },
      format: 'value',
      metric: { segment: 2 },
    },
    { name: 'esphome', topic: '+/status', kind: 'status', device: { segment: 0 }, format: 'value' },
  ],
};
