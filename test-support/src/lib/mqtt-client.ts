/**
 * mqtt.js clients for tests, playing a device or a tap on the broker: connect (failing fast),
 * publish with a promise, end cleanly, record what arrives on a topic filter. Owns only client
 * connections; brokers are started elsewhere (embedded-broker.ts, mosquitto.ts).
 */
import { telemetryTopic } from '@pulse/protocol';
import mqtt, { IClientOptions, MqttClient } from 'mqtt';

/** An mqtt.js client, connected (rejects on connection error; no reconnects). */
export function connectMqtt(url: string, options: IClientOptions = {}): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, {
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...options,
    });
    client.once('connect', () => resolve(client));
    client.once('error', (error) => {
      client.end(true);
      reject(error);
    });
  });
}

/** Publish and resolve once the client has sent it (QoS 0) or the broker acknowledged it (QoS 1). */
export function publish(
  client: MqttClient,
  topic: string,
  payload: string | Buffer,
  qos: 0 | 1 = 0,
  retain = false,
): Promise<void> {
  return new Promise((resolve, reject) => {
    client.publish(topic, payload, { qos, retain }, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * Publish `message` as JSON on `devices/{deviceId}/telemetry` (QoS 1 unless told): a reading
 * `{ ts?, values }`, a batch array, or any shape a test wants the ingest to see.
 */
export function publishTelemetry(
  client: MqttClient,
  deviceId: string,
  message: unknown,
  qos: 0 | 1 = 1,
): Promise<void> {
  return publish(client, telemetryTopic(deviceId), JSON.stringify(message), qos);
}

/** A clean disconnect (DISCONNECT sent, so the broker publishes no Last Will). */
export function endMqtt(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.end(false, {}, () => resolve()));
}

/** One message as a recording client saw it. */
export interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
  /** Date.now() on arrival. */
  at: number;
}

export interface Recording {
  messages: Received[];
  client: MqttClient;
  close(): Promise<void>;
}

/** An mqtt.js client recording every message on `filter` (subscribed with QoS 1). */
export async function recordMqtt(url: string, filter = 'devices/+/+'): Promise<Recording> {
  const client = await connectMqtt(url, {
    clientId: `rec-${Math.random().toString(36).slice(2)}`,
  });
  const messages: Received[] = [];
  client.on('message', (topic, payload, packet) =>
    messages.push({ topic, payload, retain: packet.retain, at: Date.now() }),
  );
  await client.subscribeAsync(filter, { qos: 1 });
  return { messages, client, close: () => client.endAsync() };
}
