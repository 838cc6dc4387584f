import type { AuthorizePublish } from './in-process-delivery';

/**
 * The MQTT 5 properties a message keeps on its way through the broker: those a publisher may put
 * in a PUBLISH (MQTT 5 §3.3.2.3) for its subscribers. Left out although a PUBLISH may carry them:
 * Topic Alias (one connection's; Aedes resolves it and clears it before the hook) and
 * Subscription Identifier (the broker's, per subscription: a client must not send one,
 * [MQTT-3.3.4-6]).
 */
const PASSED_ON: ReadonlySet<string> = new Set([
  'payloadFormatIndicator',
  'messageExpiryInterval',
  'contentType',
  'responseTopic',
  'correlationData',
  'userProperties',
]);

/**
 * Wraps the `authorizePublish` hook so that a message reaches subscribers and the retained store
 * with only the properties of {@link PASSED_ON}, whatever it came with.
 *
 * Why: Aedes 2 publishes a Last Will with its will properties as they are (aedes.js
 * `publishWill`), Will Delay Interval included, and a PUBLISH must not carry that property
 * (§3.1.3.2.2). A strict MQTT 5 reader (libmosquitto: `mosquitto_sub -V mqttv5`) then drops its
 * connection with "A network protocol error occurred", live and again on the retained copy
 * whenever it subscribes. mqtt-packet reads any property in any packet, so a device's own
 * PUBLISH can bring CONNECT-only properties in the same way.
 *
 * Why here: every way a message enters the broker (a device's PUBLISH, a will now or after its
 * delay, a will left by a dead broker) calls this hook with the packet it then stores and routes,
 * and Aedes documents changing the packet in it. A will's delay is not lost: Aedes reads it from
 * the will when the connection closes (lib/client.js) and calls this hook once the delay is over.
 *
 * Owns which properties pass; decides nothing about who may publish (the hooks inside do).
 */
export function passOnPublishProperties(authorize: AuthorizePublish): AuthorizePublish {
  return (client, packet, callback) => {
    // Most messages (any MQTT 3.1.1 one) have none: nothing to look at.
    if (packet.properties) {
      const kept = publishProperties(packet.properties);
      if (kept === null) delete packet.properties;
      else packet.properties = kept;
    }
    authorize(client, packet, callback);
  };
}

type Properties = NonNullable<Parameters<AuthorizePublish>[1]['properties']>;

/**
 * `properties` itself when it holds nothing else (no copy on the usual path), else a copy of
 * what may pass on, or null when nothing may. An `undefined` value counts as absent (how Aedes
 * clears a topic alias).
 */
export function publishProperties(properties: Properties): Properties | null {
  const all = properties as Record<string, unknown>;
  let foreign = false;
  let passed = 0;
  for (const name in all) {
    if (all[name] === undefined) continue;
    if (PASSED_ON.has(name)) passed++;
    else foreign = true;
  }
  if (!foreign) return properties;
  if (passed === 0) return null;
  const kept: Record<string, unknown> = {};
  for (const name in all)
    if (PASSED_ON.has(name) && all[name] !== undefined) kept[name] = all[name];
  return kept as Properties;
}
