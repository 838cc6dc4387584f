/**
 * Alert scenarios (`--scenario <name>`): a scripted episode on one device, `<prefix>-001`
 * (always a machine), timed from the start of the run, that trips one kind of alert rule of
 * the backend's DEFAULT_RULES and then ends so the alert clears:
 *
 * | scenario   | at      | what happens                                                     | rules it trips (DEFAULT_RULES)                     |
 * |------------|---------|------------------------------------------------------------------|----------------------------------------------------|
 * | `spike`    | 2–22 s  | temperature 80 °C and vibration 10 mm/s, then back to normal     | vibration-spike (rate, after 2 s), vibration-high (after 5 s), temperature-high (after 10 s) |
 * | `drift`    | 2–58 s  | temperature drifts 0.5 °C/s from 60 up to 74 and back down       | temperature-high (crosses 68 at 18 s, raised at 28 s, cleared below 66 at 46 s); no rate rule |
 * | `flatline` | 2–22 s  | connected, but no telemetry at all                               | no-data (silence > 10 s, raised at about 12 s, cleared at 22 s) |
 * | `offline`  | 2–22 s  | connection dropped without DISCONNECT (the broker fires the Last Will), back at 22 s | device-offline (after 5 s, raised at about 7 s) |
 *
 * Outside its episode the scenario device is scripted quiet (temperature 50 °C ± 1, vibration
 * 1 mm/s ± 0.2, no knocks) so nothing but the episode raises an alert on it and every alert
 * it raised clears. Pure: a function of the time since the start of the run, nothing else.
 */
export const SCENARIO_NAMES = ['spike', 'drift', 'flatline', 'offline'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

/** Where the episode sits, from the start of the run. */
export const SCENARIO_TIMELINE: Record<ScenarioName, { startMs: number; endMs: number }> = {
  spike: { startMs: 2_000, endMs: 22_000 },
  drift: { startMs: 2_000, endMs: 58_000 },
  flatline: { startMs: 2_000, endMs: 22_000 },
  offline: { startMs: 2_000, endMs: 22_000 },
};

/** Levels of the script, chosen against DEFAULT_RULES (temperature > 68 / < 66, vibration > 4 / < 3, rate > 5 per 5 s). */
export const SCENARIO_LEVELS = {
  normalTemperature: 50,
  normalVibration: 1,
  spikeTemperature: 80,
  spikeVibration: 10,
  driftFrom: 60,
  driftTo: 74,
  /** °C per second: slow, so no rate rule sees it. */
  driftPerSecond: 0.5,
} as const;

/** What the scenario device does at one moment. */
export type ScenarioEffect =
  /** Publish, with these metrics replaced (only those the device has). */
  | { type: 'values'; values: Record<string, number> }
  /** Connected, sends nothing (flatline). */
  | { type: 'silent' }
  /** Connection down until `until` (ms since the start of the run). */
  | { type: 'offline'; until: number };

/** The scenario device's script at `elapsedMs` since the start of the run. */
export function scenarioEffect(name: ScenarioName, elapsedMs: number): ScenarioEffect {
  const { startMs, endMs } = SCENARIO_TIMELINE[name];
  const inEpisode = elapsedMs >= startMs && elapsedMs < endMs;
  const L = SCENARIO_LEVELS;
  // A gentle deterministic ripple, so the quiet baseline still looks alive on a chart.
  const ripple = Math.sin(elapsedMs / 7_000);
  const quiet = {
    temperature: round(L.normalTemperature + ripple, 2),
    vibration: round(L.normalVibration + 0.2 * Math.sin(elapsedMs / 3_000), 3),
  };
  if (!inEpisode) return { type: 'values', values: quiet };
  switch (name) {
    case 'spike':
      return {
        type: 'values',
        values: { temperature: L.spikeTemperature, vibration: L.spikeVibration },
      };
    case 'drift': {
      const half = (endMs - startMs) / 2;
      const t = elapsedMs - startMs;
      const up = t < half ? t : endMs - startMs - t;
      const temperature = Math.min(L.driftTo, L.driftFrom + (L.driftPerSecond * up) / 1000);
      return { type: 'values', values: { ...quiet, temperature: round(temperature, 2) } };
    }
    case 'flatline':
      return { type: 'silent' };
    case 'offline':
      return { type: 'offline', until: endMs };
  }
}

function round(value: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}
