/*
 * The device-credentials contract (issue 10): the shapes of `POST|DELETE
 * /api/devices/{id}/credentials` and `GET /api/device-credentials`, used by the backend, the
 * simulator's `credentials` command and the tests. Zod-free (part of the core entry); owns these
 * shapes only, never a secret's hashing or storage (the backend does).
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
