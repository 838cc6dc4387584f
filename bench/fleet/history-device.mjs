// A device with a long past, for the device page (or several, for a wall board): `minutes` of readings at 1/s (four metrics, as
// the simulator's sensors have) published stamped in the past before any page opens, then one
// reading a second live, each metric moving every second so the page's values change. A device
// page opened on a gateway that has run for an hour asks for that hour: this is what it gets.
// Owns its readings; its client comes from stack.mjs's announceDevice. Must not start the
// backend nor open the browser.
import { announceDevice, eachSecond } from './stack.mjs';

export const HISTORY_DEVICE_ID = 'bench-history';
const METRICS = { temperature: '°C', humidity: '%', pressure: 'hPa', co2: 'ppm' };
/** Readings per telemetry message while backfilling (the contract allows 500). */
const BATCH = 500;

/** A seeded generator (mulberry32): the same noise in every run, noise all the same. */
function noise(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

/**
 * The device's reading at second `n` of its life: a slow wave with sensor noise on top (a
 * measured signal compresses as real ones do, not as a formula would), two decimals as the
 * simulator's sensors send.
 */
function valuesAt(n) {
  const wave = Math.sin(n / 300);
  const r = noise(n + 1);
  return {
    temperature: +(21 + 2 * wave + 0.3 * r()).toFixed(2),
    humidity: +(45 + 5 * wave + 1.5 * r()).toFixed(2),
    pressure: +(1013 + wave + 0.4 * r()).toFixed(2),
    co2: +(600 + 80 * wave + 20 * r()).toFixed(1),
  };
}

/**
 * Publish `minutes` of past readings (QoS 1, so the backend has taken them all), then one a
 * second until `stop()`. Resolves once the past is published.
 */
export async function startHistoryDevice(mqttPort, { minutes }, id = HISTORY_DEVICE_ID, k = 0) {
  const { client, topic } = await announceDevice(mqttPort, id, {
    name: `${k} history device`,
    units: METRICS,
  });
  const seconds = Math.round(minutes * 60);
  const start = Date.now() - seconds * 1000;
  // Each device its own stretch of the same signal (its own noise).
  const offset = k * 7919;
  for (let from = 0; from < seconds; from += BATCH) {
    const batch = [];
    for (let n = from; n < Math.min(seconds, from + BATCH); n++)
      batch.push({ ts: start + n * 1000, values: valuesAt(offset + n) });
    await client.publishAsync(topic('telemetry'), JSON.stringify(batch), { qos: 1 });
  }
  const stop = eachSecond(client, (n) => {
    client.publish(topic('telemetry'), JSON.stringify({ values: valuesAt(offset + seconds + n) }));
  });
  return { id, stop };
}

/**
 * `count` such devices (a wall board's): `bench-history`, `bench-history-2`, … Resolves once
 * every past is published; `stop()` stops them all.
 */
export async function startHistoryDevices(mqttPort, { minutes, count }) {
  const devices = [];
  for (let k = 0; k < count; k++) {
    const id = k === 0 ? HISTORY_DEVICE_ID : `${HISTORY_DEVICE_ID}-${k + 1}`;
    devices.push(await startHistoryDevice(mqttPort, { minutes }, id, k));
  }
  return { ids: devices.map((d) => d.id), stop: () => devices.forEach((d) => d.stop()) };
}
