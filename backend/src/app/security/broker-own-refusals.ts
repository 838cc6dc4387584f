import { quote } from '@pulse/protocol';
import type { Aedes } from 'aedes';
import { SecurityCounters } from './security-counters.service';

/**
 * The publishes Aedes refuses by itself, before any hook of ours sees them, known by the
 * message of the `clientError` it emits (lib/handlers/publish.js), the only sign of them it
 * gives: a topic with a wildcard (MQTT 3.1.1 §3.3.2.1, [MQTT-3.3.2-2]) or an empty one. It closes
 * the sender's connection whatever its MQTT version. Counted as `mqtt_publish_acl`: not a topic
 * Pulse merely does not read (`mqtt_topic_unread`, acknowledged and dropped), but one no publish
 * may have. broker-acl.spec.ts fails if an Aedes upgrade words them differently.
 */
const TOPIC_REFUSALS: ReadonlySet<string> = new Set([
  '+ is not allowed in PUBLISH',
  '# is not allowed in PUBLISH',
  'empty topic not allowed in PUBLISH',
]);

/**
 * Counts the refusals Aedes makes itself ({@link TOPIC_REFUSALS}), so that every refusal of the
 * broker is counted. Owns only that listener: the other `clientError`s are not refusals (a reset
 * socket, a keepalive timeout) or are counted by the hook that caused them (an MQTT 5 publish the
 * ACL refused, reported here again by Aedes).
 */
export function countBrokerOwnRefusals(aedes: Pick<Aedes, 'on'>, counters: SecurityCounters): void {
  aedes.on('clientError', (client, error) => {
    if (TOPIC_REFUSALS.has(error.message))
      counters.refuse('mqtt_publish_acl', `${error.message} (client ${quote(client.id)})`);
  });
}
