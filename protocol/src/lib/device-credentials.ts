/*
 * The device-credentials contract (issue 10): the shapes of `POST|DELETE
 * /api/devices/{id}/credentials` and `GET /api/device-credentials`, and of the bridge credentials
 * beside them (`/api/bridge-credentials`, decision 0067), used by the backend, the simulator's
 * `credentials` command and the tests. Zod-free (part of the core entry; the request schema is in
 * device-credentials.schema.ts); owns these shapes only, never a secret's hashing or storage (the
 * backend does).
 */

/** `POST /api/devices/{id}/credentials` (201): the one time the secret is ever shown. */
export interface CreateDeviceCredentialResponse {
  /** The MQTT username: the device id itself. */
  deviceId: string;
  /** The MQTT password. Stored only as a hash: lost means rotate (POST again). */
  secret: string;
  createdAt: number;
  /** True when an earlier secret was replaced (its live connections were closed). */
  rotated: boolean;
}

/** One device's credentials as `GET /api/device-credentials` lists them (never the secret). */
export interface DeviceCredentialInfo {
  deviceId: string;
  /** When the current secret was made (rotation replaces it). */
  createdAt: number;
  /** Last successful MQTT connection with these credentials, or null. */
  lastConnectAt: number | null;
  /** Set once revoked: the id stays reserved (no anonymous client may publish as it). */
  revokedAt: number | null;
}

export interface DeviceCredentialListResponse {
  credentials: DeviceCredentialInfo[];
}

/**
 * What a bridge's MQTT username starts with: `bridge:<name>`. `:` is no id character
 * (`isValidId`, ids.ts), so a bridge's username can never be a device id (a device's username).
 */
export const BRIDGE_USERNAME_PREFIX = 'bridge:';

/** The MQTT username of the bridge credential named `name` (an id). */
export function bridgeUsername(name: string): string {
  return `${BRIDGE_USERNAME_PREFIX}${name}`;
}

/**
 * `POST /api/bridge-credentials` (201): the one time a bridge's secret is ever shown. A bridge
 * (zigbee2mqtt, a Home Assistant discovery publisher) is one MQTT connection that publishes for
 * many devices: any id without credentials of its own.
 */
export interface CreateBridgeCredentialResponse {
  name: string;
  /** The MQTT username: `bridge:<name>` (zigbee2mqtt's `mqtt.user`). */
  username: string;
  /** The MQTT password (`mqtt.password`). Stored only as a hash: lost means rotate (POST again). */
  secret: string;
  createdAt: number;
  /** True when an earlier secret of this name was replaced (its live connections were closed). */
  rotated: boolean;
}

/** One bridge credential as `GET /api/bridge-credentials` lists it (never the secret). */
export interface BridgeCredentialInfo {
  name: string;
  username: string;
  /** When the current secret was made (rotation replaces it). */
  createdAt: number;
  /** Last successful MQTT connection with it, or null. */
  lastConnectAt: number | null;
  /**
   * The MQTT client id it last connected with, which is its own: refused to every other
   * identity (decision 0067). Absent until its first accepted connection.
   */
  clientId?: string;
}

export interface BridgeCredentialListResponse {
  credentials: BridgeCredentialInfo[];
}
