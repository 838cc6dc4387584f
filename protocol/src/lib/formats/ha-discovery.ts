import { LIMITS } from '../limits';
import { SkipReason, toId } from './format';
import {
  parseValueTemplate,
  PLAIN_VALUE,
  selectValue,
  TemplateInput,
  templateNumber,
  templateText,
  ValueTemplate,
} from './ha-template';

/*
 * Home Assistant MQTT discovery announcements (`homeassistant/<component>/[<node>/]<object>/config`,
 * retained) as validated entity mappings: which topic carries the entity's state, how to read a
 * number from it, the device it belongs to (id, name, unit, class) and the topics that say
 * whether it is available. Reads the abbreviated keys (`stat_t`, `val_tpl`, `dev.ids`, …) and
 * the `~` base topic that Tasmota, ESPHome and Shelly scripts publish. Only `sensor` and
 * `binary_sensor` become entities; other components are skipped, an empty payload removes the
 * entity. Pure: owns this mapping; must not subscribe, keep state or judge limits (the backend's
 * ingest sources do).
 *
 * Spec: https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery
 */

/** The discovery filters (the default prefix `homeassistant`), with and without a node id. */
export const HA_DISCOVERY_FILTERS = ['homeassistant/+/+/config', 'homeassistant/+/+/+/config'];

export type HaComponent = 'sensor' | 'binary_sensor';

export interface HaAvailability {
  topic: string;
  available: string;
  notAvailable: string;
  template: ValueTemplate;
}

export interface HaEntity {
  /** `<component>/[<node>/]<object>` of the config topic: what a later announcement updates. */
  key: string;
  component: HaComponent;
  deviceId: string;
  deviceName?: string;
  metric: string;
  stateTopic: string;
  template: ValueTemplate;
  unit?: string;
  deviceClass?: string;
  /** binary_sensor: the texts read as 1 and 0 (HA's defaults `ON` / `OFF`). */
  payloadOn?: string;
  payloadOff?: string;
  availability: HaAvailability[];
  /** HA's `availability_mode`: online when all, any, or the latest message says so. */
  availabilityMode: 'all' | 'any' | 'latest';
}

/** Why an announcement did not become an entity. */
export type HaSkipReason = 'component' | 'template' | 'invalid';

export type HaAnnouncement =
  | { kind: 'entity'; entity: HaEntity }
  | { kind: 'removed'; key: string }
  | { kind: 'skipped'; key: string; reason: HaSkipReason; detail: string };

const COMPONENTS = new Set<string>(['sensor', 'binary_sensor']);

/** HA's abbreviations of the keys read here (homeassistant/components/mqtt/abbreviations.py). */
const ABBREVIATIONS: Record<string, string> = {
  avty: 'availability',
  avty_mode: 'availability_mode',
  avty_t: 'availability_topic',
  avty_tpl: 'availability_template',
  dev: 'device',
  dev_cla: 'device_class',
  name: 'name',
  obj_id: 'object_id',
  pl_avail: 'payload_available',
  pl_not_avail: 'payload_not_available',
  pl_off: 'payload_off',
  pl_on: 'payload_on',
  stat_t: 'state_topic',
  uniq_id: 'unique_id',
  unit_of_meas: 'unit_of_measurement',
  val_tpl: 'value_template',
  t: 'topic',
  ids: 'identifiers',
};

/** The config topic's key (`sensor/node/object`), or null when it is not a discovery topic. */
export function haDiscoveryKey(topic: string): string | null {
  const levels = topic.split('/');
  if (levels[0] !== 'homeassistant' || levels[levels.length - 1] !== 'config') return null;
  if (levels.length !== 4 && levels.length !== 5) return null;
  return levels.slice(1, -1).join('/');
}

/**
 * Whether a topic from an announcement may be read: a topic name (no wildcards, not `$…`),
 * not the contract's `devices/…` (an announcement must not redirect Pulse's own devices) and
 * not a discovery topic itself.
 */
export function isReadableTopic(topic: string): boolean {
  return (
    topic.length > 0 &&
    topic.length <= 256 &&
    !topic.includes('+') &&
    !topic.includes('#') &&
    !topic.includes('\u0000') &&
    !topic.startsWith('$') &&
    !topic.startsWith('devices/') &&
    haDiscoveryKey(topic) === null
  );
}

function expand(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) out[ABBREVIATIONS[k] ?? k] = v;
  return out;
}

/** `~` at the start or end of a topic is the announcement's base topic (HA's rule). */
function withBase(topic: unknown, base: unknown): unknown {
  if (typeof topic !== 'string' || typeof base !== 'string') return topic;
  if (topic.startsWith('~')) return base + topic.slice(1);
  if (topic.endsWith('~')) return topic.slice(0, -1) + base;
  return topic;
}

const text = (v: unknown): string | undefined =>
  typeof v === 'string'
    ? v
    : typeof v === 'number' || typeof v === 'boolean'
      ? String(v)
      : undefined;

/** The announcement on `topic` (retained, JSON) as an entity mapping, a removal or a skip. */
export function decodeHaDiscovery(topic: string, payload: string): HaAnnouncement | null {
  const key = haDiscoveryKey(topic);
  if (key === null) return null;
  const skip = (reason: HaSkipReason, detail: string): HaAnnouncement => ({
    kind: 'skipped',
    key,
    reason,
    detail,
  });
  if (payload.trim() === '') return { kind: 'removed', key };
  const component = key.split('/')[0];
  if (!COMPONENTS.has(component)) return skip('component', `${component} is not read`);
  let raw: unknown;
  try {
    raw = JSON.parse(payload);
  } catch {
    return skip('invalid', 'not JSON');
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    return skip('invalid', 'not a JSON object');
  const body = expand(raw as Record<string, unknown>);
  const base = body['~'];

  const stateTopic = withBase(body['state_topic'], base);
  if (typeof stateTopic !== 'string' || !isReadableTopic(stateTopic))
    return skip('invalid', `state_topic ${JSON.stringify(stateTopic ?? null)} cannot be read`);

  let template = PLAIN_VALUE;
  if (body['value_template'] !== undefined) {
    const parsed =
      typeof body['value_template'] === 'string'
        ? parseValueTemplate(body['value_template'])
        : null;
    if (!parsed)
      return skip('template', `value_template ${JSON.stringify(body['value_template'])}`);
    template = parsed;
  }

  const device =
    body['device'] && typeof body['device'] === 'object' && !Array.isArray(body['device'])
      ? expand(body['device'] as Record<string, unknown>)
      : {};
  const ids = device['identifiers'];
  const firstId = text(Array.isArray(ids) ? ids[0] : ids) ?? text(body['unique_id']);
  const deviceId = firstId === undefined ? null : toId(firstId);
  if (!deviceId) return skip('invalid', 'no device.identifiers nor unique_id to name the device');

  // The value's place in the payload names the metric as the `json` format would
  // (`AM2301.Temperature`); a plain value takes the entity's object id.
  const objectId = text(body['object_id']) ?? key.split('/').pop() ?? '';
  const metric = toId(
    template.path && template.path.length > 0
      ? template.path.map((k) => toId(String(k)) ?? String(k)).join('.')
      : objectId,
  );
  if (!metric) return skip('invalid', `no metric name in ${JSON.stringify(objectId)}`);

  const availability = availabilityOf(body, base);
  if ('reason' in availability) return skip(availability.reason, availability.detail);
  const mode = body['availability_mode'];

  const name = text(device['name']) ?? text(body['name']);
  const unit = text(body['unit_of_measurement']);
  const deviceClass = text(body['device_class']);
  const entity: HaEntity = {
    key,
    component: component as HaComponent,
    deviceId,
    metric,
    stateTopic,
    template,
    availability,
    availabilityMode: mode === 'all' || mode === 'any' ? mode : 'latest',
    ...(name ? { deviceName: name.slice(0, LIMITS.maxNameLength) } : {}),
    // A unit longer than the contract's is left out rather than cut into another unit.
    ...(unit && unit.length <= LIMITS.maxUnitLength ? { unit } : {}),
    ...(deviceClass ? { deviceClass } : {}),
  };
  if (component === 'binary_sensor') {
    entity.payloadOn = text(body['payload_on']) ?? 'ON';
    entity.payloadOff = text(body['payload_off']) ?? 'OFF';
  }
  return { kind: 'entity', entity };
}

/** `availability_topic` and/or the `availability` list, or the problem with them. */
function availabilityOf(
  body: Record<string, unknown>,
  base: unknown,
): HaAvailability[] | { reason: HaSkipReason; detail: string } {
  const on = text(body['payload_available']) ?? 'online';
  const off = text(body['payload_not_available']) ?? 'offline';
  const entries: Record<string, unknown>[] = [];
  if (body['availability_topic'] !== undefined)
    entries.push({
      topic: body['availability_topic'],
      payload_available: on,
      payload_not_available: off,
      value_template: body['availability_template'],
    });
  const list = body['availability'];
  if (Array.isArray(list))
    for (const item of list)
      if (item && typeof item === 'object') entries.push(expand(item as Record<string, unknown>));
  if (entries.length > 8)
    return { reason: 'invalid', detail: `${entries.length} availability topics (at most 8)` };
  const out: HaAvailability[] = [];
  for (const e of entries) {
    const topic = withBase(e['topic'], base);
    if (typeof topic !== 'string' || !isReadableTopic(topic))
      return {
        reason: 'invalid',
        detail: `availability topic ${JSON.stringify(topic ?? null)} cannot be read`,
      };
    let template = PLAIN_VALUE;
    if (e['value_template'] !== undefined) {
      const parsed =
        typeof e['value_template'] === 'string' ? parseValueTemplate(e['value_template']) : null;
      if (!parsed)
        return {
          reason: 'template',
          detail: `availability value_template ${JSON.stringify(e['value_template'])}`,
        };
      template = parsed;
    }
    out.push({
      topic,
      template,
      available: text(e['payload_available']) ?? 'online',
      notAvailable: text(e['payload_not_available']) ?? 'offline',
    });
  }
  return out;
}

/**
 * The entity's number in a state message: a sensor's through its template, a binary sensor's
 * `payload_on` / `payload_off` as 1 / 0 (compared as text, as HA does: zigbee2mqtt's `true`
 * matches `"payload_on": true`). Or why there is none; null when this payload does not carry it.
 */
export function haStateValue(
  entity: HaEntity,
  input: TemplateInput,
): number | { skip: SkipReason } | null {
  if (entity.component === 'sensor') return templateNumber(entity.template, input);
  if (selectValue(entity.template, input) === undefined) return null;
  const t = templateText(entity.template, input)?.trim();
  if (t === entity.payloadOn) return 1;
  if (t === entity.payloadOff) return 0;
  return { skip: t === undefined ? 'type' : 'string' };
}

/** What an availability message says: online, offline, or null when it is neither word. */
export function haAvailable(
  availability: HaAvailability,
  input: TemplateInput,
): 'online' | 'offline' | null {
  const t = templateText(availability.template, input)?.trim();
  if (t === availability.available) return 'online';
  if (t === availability.notAvailable) return 'offline';
  return null;
}
