/**
 * The names of the ingest presets (ingest/sources/presets.ts maps each to its sources), here in
 * config/ so the environment check (config.ts) can list a bad INGEST_PRESETS name with the other
 * bad variables without importing the ingest (a folder cycle), and because config.ts is loaded in
 * the SQLite history worker too, which must not pull in the presets' imports. Owns the names only.
 */
export const PRESET_NAMES = [
  'tasmota',
  'zigbee2mqtt',
  'shelly',
  'homeassistant',
  'esphome',
] as const;

export type PresetName = (typeof PRESET_NAMES)[number];

export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}

/** The problem line of a name that is no preset (INGEST_PRESETS, a sources file's `presets`). */
export function unknownPreset(name: string): string {
  return `preset ${JSON.stringify(name)}: unknown (one of ${PRESET_NAMES.join(', ')})`;
}
