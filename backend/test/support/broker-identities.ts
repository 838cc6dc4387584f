/**
 * Identities on the embedded broker for integration specs: a device's or a bridge's credentials
 * made through the admin API, and the mqtt.js moves the broker ACL specs share (what a SUBACK
 * granted, a publish the broker must acknowledge rather than answer by a close). Owns no broker
 * and no backend: the spec's fixture (support/pulse.ts) does.
 */
import type {
  CreateBridgeCredentialResponse,
  CreateDeviceCredentialResponse,
} from '@pulse/protocol';
import { connectMqtt, endMqtt, publish, sendJson } from '@pulse/test-support';
import type { IClientOptions, MqttClient } from 'mqtt';

/** `fixture.api` and an admin's authorization header. */
export interface AdminApi {
  api(path: string): string;
  admin: { authorization: string };
}

/** A device's credentials (`POST /api/devices/{id}/credentials`); its secret is in the answer. */
export async function createDeviceCredentials(
  { api, admin }: AdminApi,
  deviceId: string,
): Promise<CreateDeviceCredentialResponse> {
  const { status, body } = await sendJson<CreateDeviceCredentialResponse>(
    api(`/devices/${encodeURIComponent(deviceId)}/credentials`),
    'POST',
    undefined,
    admin,
  );
  if (status !== 201) throw new Error(`device credentials for ${deviceId}: HTTP ${status}`);
  return body;
}

/** A bridge's credentials (`POST /api/bridge-credentials`); a second call rotates them. */
export async function createBridgeCredentials(
  { api, admin }: AdminApi,
  name: string,
): Promise<CreateBridgeCredentialResponse> {
  const { status, body } = await sendJson<CreateBridgeCredentialResponse>(
    api('/bridge-credentials'),
    'POST',
    { name },
    admin,
  );
  if (status !== 201) throw new Error(`bridge credentials for ${name}: HTTP ${status}`);
  return body;
}

/** The QoS the broker granted per filter (mqtt.js rejects a SUBACK with a failure; 128 = refused). */
export const grantedQos = (
  client: MqttClient,
  filters: string[],
  qos: 0 | 1 = 0,
): Promise<number[] | undefined> =>
  client.subscribeAsync(filters, { qos }).then(
    (granted) => granted.map((g) => g.qos),
    (error: { packet?: { granted?: number[] } }) => error.packet?.granted,
  );

/** Resolves when the broker closes `client`'s connection. */
export const closed = (client: MqttClient): Promise<void> =>
  new Promise((resolve) => client.once('close', () => resolve()));

/** Publish QoS 1; rejects at once if the broker closes the connection instead of acknowledging. */
export const publishKept = (
  client: MqttClient,
  topic: string,
  payload: string,
  retain = false,
): Promise<void> =>
  Promise.race([
    publish(client, topic, payload, 1, retain),
    closed(client).then(() => {
      throw new Error(`the broker closed the connection for ${topic}`);
    }),
  ]);

/**
 * The CONNACK code a CONNECT with `options` is refused with (-1: refused without one); throws
 * when it is let in. The message names the client id and username, never the password: a secret
 * in a test's failure message is one in the CI log.
 */
export async function refusedWith(url: string, options: IClientOptions): Promise<number> {
  const outcome = await connectMqtt(url, options).then(
    async (client): Promise<number | null> => {
      await endMqtt(client);
      return null;
    },
    (error: { code?: number }) => error.code ?? -1,
  );
  if (outcome === null)
    throw new Error(
      `client id ${options.clientId ?? '(mqtt.js made one)'} as ${options.username ?? 'anonymous'} was let in`,
    );
  return outcome;
}
