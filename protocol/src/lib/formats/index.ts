/*
 * Payload formats of real devices (issue 14), each a small pure decoder: `json`, `value`,
 * `senml`, `influx`, the firmware's own `tasmota`, `zigbee2mqtt` and `shelly-rpc`, and Home
 * Assistant discovery announcements. The contract decoder checks what they return. Owns this
 * list.
 */
export * from './format';
export * from './json';
export * from './value';
export * from './senml';
export * from './influx';
export * from './shelly';
export * from './tasmota';
export * from './zigbee2mqtt';
export * from './ha-template';
export * from './ha-discovery';
