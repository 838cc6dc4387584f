import { isValidId } from './ids';

/**
 * MQTT topics, device to stack: `devices/{deviceId}/telemetry|status|meta`. Owns the topic
 * strings both ways (build and parse); it must not read payloads (`decode.ts`) nor subscribe,
 * publish or authorise (the gateway's MQTT repository and broker guard, the simulator).
 * @see https://docs.oasis-open.org/mqtt/mqtt/v5.0/os/mqtt-v5.0-os.html#_Toc3901241 (topic names)
 */
export const TOPIC_ROOT = 'devices';
export const TOPIC_KINDS = ['telemetry', 'status', 'meta'] as const;
export type TopicKind = (typeof TOPIC_KINDS)[number];

export const telemetryTopic = (deviceId: string): string => `${TOPIC_ROOT}/${deviceId}/telemetry`;
export const statusTopic = (deviceId: string): string => `${TOPIC_ROOT}/${deviceId}/status`;
export const metaTopic = (deviceId: string): string => `${TOPIC_ROOT}/${deviceId}/meta`;

/** The filters the ingest subscribes to (one per kind). */
export const DEVICE_SUBSCRIPTIONS: readonly string[] = TOPIC_KINDS.map(
  (kind) => `${TOPIC_ROOT}/+/${kind}`,
);

/**
 * MQTT 5 shared subscription of the same filters, so several gateway
 * instances split the ingest instead of each receiving everything.
 */
export const sharedSubscription = (group: string, filter: string): string =>
  `$share/${group}/${filter}`;

export type ParsedTopic = { deviceId: string; kind: TopicKind };

/** Parse a device topic; `null` for anything that is not exactly `devices/{validId}/{kind}`. */
export function parseTopic(topic: string): ParsedTopic | null {
  if (typeof topic !== 'string' || topic.length > 128) return null;
  const first = topic.indexOf('/');
  if (first < 0 || topic.slice(0, first) !== TOPIC_ROOT) return null;
  const second = topic.indexOf('/', first + 1);
  if (second < 0) return null;
  const deviceId = topic.slice(first + 1, second);
  const kind = topic.slice(second + 1);
  if (kind !== 'telemetry' && kind !== 'status' && kind !== 'meta') return null;
  if (!isValidId(deviceId)) return null;
  return { deviceId, kind };
}
