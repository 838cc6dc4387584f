import { readFileSync } from 'node:fs';
import { IdSchema } from '@pulse/protocol';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isValidFilter } from './mqtt-filter';
import { isPresetName, unknownPreset } from '../../config/preset-names';
import { PRESETS } from './presets';

/**
 * Ingest sources (issue 14): where messages of devices that do not speak Pulse's own contract
 * come from and how to read them. One source is an MQTT topic filter, where the device id comes
 * from (a topic level, a regex group, the payload, or a zigbee2mqtt friendly name), a payload
 * format, and optional fixed meta.
 * Configured by name (`INGEST_PRESETS=tasmota,zigbee2mqtt`) and/or in a YAML or JSON file
 * (`INGEST_SOURCES_FILE`), validated at boot with every error listed. The contract's own
 * `devices/{id}/telemetry|status|meta` stays the default source, always on.
 *
 * Owns the schema and loading; must not match topics or decode payloads (source-router does).
 */

/**
 * `tasmota`, `zigbee2mqtt`, `shelly-rpc`: `json` as that firmware writes it, with the units it
 * documents; `ha-discovery`: Home Assistant discovery announcements and birth topics (the
 * preset's).
 */
const FORMATS = [
  'json',
  'value',
  'senml',
  'influx',
  'tasmota',
  'zigbee2mqtt',
  'shelly-rpc',
  'ha-discovery',
] as const;

const SegmentSchema = z.object({ segment: z.number().int().min(0).max(31) }).strict();

const DeviceFromSchema = z.union([
  SegmentSchema,
  z
    .object({ regex: z.string().min(1).max(256), group: z.number().int().min(1).max(9).default(1) })
    .strict()
    .refine(
      (v) => {
        try {
          new RegExp(v.regex);
          return true;
        } catch {
          return false;
        }
      },
      { message: 'not a valid regular expression' },
    ),
  z.object({ payload: z.literal(true) }).strict(),
  /**
   * zigbee2mqtt's layout under its base topic (`topic: zigbee2mqtt/#`): the friendly name is every
   * level `#` matches (it may hold `/`), made an id by `nameToId` and kept as the device's display
   * name; a `telemetry` source reads `<name>`, a `status` source `<name>/availability`, and both
   * set zigbee2mqtt's own topics aside (`bridge/…`, `<name>/set|get…`, `<name>/action`).
   */
  z.object({ friendlyName: z.literal(true) }).strict(),
]);

export const SourceSpecSchema = z
  .object({
    name: IdSchema,
    topic: z
      .string()
      .refine(isValidFilter, { message: 'not a valid MQTT topic filter' })
      .refine((t) => !t.startsWith('devices/'), {
        message: 'devices/… is the built-in contract source',
      }),
    kind: z.enum(['telemetry', 'status']).default('telemetry'),
    device: DeviceFromSchema,
    format: z.enum(FORMATS),
    /** `value` format: the metric's name, fixed or a topic level. Default: `value`. */
    metric: z.union([IdSchema, SegmentSchema]).optional(),
    /** `json` format: the field that holds the reading's time. */
    timestamp: z
      .object({ field: z.string().min(1).max(128), format: z.enum(['ms', 's', 'iso']) })
      .strict()
      .optional(),
    /** `influx` format: timestamp precision (default ns) and device tags. */
    precision: z.enum(['ns', 'us', 'ms', 's']).optional(),
    deviceTags: z.array(z.string().min(1).max(64)).max(8).optional(),
    /** Fixed meta for the devices of this source. */
    meta: z
      .object({
        group: IdSchema.optional(),
        units: z.record(IdSchema, z.string().max(16)).optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((s) => !('friendlyName' in s.device) || s.topic.endsWith('/#'), {
    message: 'device.friendlyName reads the levels of a filter ending in /# (zigbee2mqtt/#)',
    path: ['device'],
  });

export type SourceSpec = z.input<typeof SourceSpecSchema>;
export type Source = z.output<typeof SourceSpecSchema>;

const SourcesFileSchema = z
  .object({
    presets: z.array(z.string()).max(16).optional(),
    sources: z.array(SourceSpecSchema).max(64).optional(),
  })
  .strict();

/** Every problem of a sources configuration, one line each (the boot error lists them all). */
export class SourcesConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`ingest sources: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  }
}

/** The preset sources named in `names`, or the unknown names as problems. */
function presetSources(names: readonly string[], problems: string[]): Source[] {
  const out: Source[] = [];
  for (const raw of names) {
    const name = raw.trim();
    if (!name) continue;
    if (!isPresetName(name)) {
      problems.push(unknownPreset(name));
      continue;
    }
    out.push(...PRESETS[name].map((s) => SourceSpecSchema.parse(s)));
  }
  return out;
}

/**
 * The sources of INGEST_PRESETS (comma-separated) and INGEST_SOURCES_FILE (YAML or JSON:
 * `{presets: [..], sources: [..]}`), presets first. Throws {@link SourcesConfigError}.
 */
export function loadSources(presets: string | undefined, file: string | undefined): Source[] {
  const problems: string[] = [];
  const sources = presetSources((presets ?? '').split(','), problems);
  if (file) {
    let body: unknown;
    try {
      body = parseYaml(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new SourcesConfigError([`${file}: ${(error as Error).message}`]);
    }
    const parsed = SourcesFileSchema.safeParse(body ?? {});
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        problems.push(`${file}: ${issue.path.join('.') || '(top)'}: ${issue.message}`);
    } else {
      sources.push(...presetSources(parsed.data.presets ?? [], problems));
      sources.push(...(parsed.data.sources ?? []));
    }
  }
  if (problems.length > 0) throw new SourcesConfigError(problems);
  return sources;
}
