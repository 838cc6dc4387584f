import {
  ConflictException,
  Inject,
  Injectable,
  Logger,
  OnModuleDestroy,
  OnModuleInit,
} from '@nestjs/common';
import type { BridgeCredentialListResponse, CreateBridgeCredentialResponse } from '@pulse/protocol';
import { BRIDGE_USERNAME_PREFIX, bridgeUsername } from '@pulse/protocol';
import { CONFIG, Config } from '../config/config';
import type { BrokerIdentity, CredentialIdentity } from '../security/broker-auth';
import {
  DeviceCredentialsRepository,
  LAST_CONNECT_FLUSH_MS,
} from './device-credentials.repository';
import { BatchedTimes } from '../common/batched-times';
import { deviceSecretMatches, hashDeviceSecret, newDeviceSecret } from './device-secret';

/**
 * Most bridge credentials; more are refused with 409. A site runs one bridge per radio or
 * integration (a zigbee2mqtt per coordinator, an ESPHome or Tasmota discovery publisher): a
 * hundred is far more than any, and each is a whole fleet's voice, so the list stays one an
 * admin can read.
 */
export const MAX_BRIDGE_CREDENTIALS = 100;

/**
 * Bridge credentials (decision 0067): one MQTT identity for a bridge that publishes for many
 * devices (zigbee2mqtt, a Home Assistant discovery publisher), username `bridge:<name>` (`:` is
 * no id character, so it never names a device) and a 256-bit secret kept as its SHA-256, as a
 * device's (device-secret.ts). Creates, rotates, revokes and lists them, and tells who a
 * `bridge:` username is from memory: a CONNECT costs one SHA-256, no SQLite read.
 *
 * Owns the bridges' policy only: what a bridge may publish and read is the broker guard's
 * (security/broker-guard.ts), the CONNECT decision DeviceCredentialsService's (the broker's one
 * authority, which asks this service about `bridge:` usernames), the SQL the repository's.
 * Never logs or keeps a secret: only its hash.
 */
@Injectable()
export class BridgeCredentialsService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('BridgeCredentials');
  /** Name → the SHA-256 of its current secret. */
  private readonly held = new Map<string, string>();
  /**
   * Client id → the bridge that last connected with it, one per bridge (so at most
   * MAX_BRIDGE_CREDENTIALS), and its inverse: that id is the bridge's alone ({@link ownerOf}).
   */
  private readonly owners = new Map<string, string>();
  private readonly clientIds = new Map<string, string>();
  private readonly connects: BatchedTimes;
  private readonly changed: ((identity: CredentialIdentity) => void)[] = [];
  private readonly external: boolean;

  constructor(
    @Inject(CONFIG) config: Pick<Config, 'MQTT_URL'>,
    private readonly repo: DeviceCredentialsRepository,
  ) {
    this.connects = new BatchedTimes((times) => repo.recordBridgeConnects(times), {
      flushMs: LAST_CONNECT_FLUSH_MS,
      failed: (error) =>
        this.logger.warn(`bridges' last-connect times not saved: ${(error as Error).message}`),
    });
    this.external = config.MQTT_URL !== undefined;
    for (const row of repo.allBridges()) {
      this.held.set(row.name, row.secretHash);
      if (row.clientId !== null) this.own(row.name, row.clientId);
    }
  }

  onModuleInit(): void {
    if (!this.external && this.held.size > 0)
      this.logger.log(`bridge credentials: ${this.held.size} bridge(s)`);
  }

  onModuleDestroy(): void {
    this.connects.flush(); // a failure is logged (the database may be closed already)
  }

  /** `listener(identity)` when a bridge's secret is replaced or revoked: close its connections. */
  onCredentialsChanged(listener: (identity: CredentialIdentity) => void): void {
    this.changed.push(listener);
  }

  /** A new secret for the bridge (rotating any earlier one); shown in the answer and never again. */
  create(name: string): CreateBridgeCredentialResponse {
    if (this.external)
      throw new ConflictException(
        'bridge credentials apply to the embedded broker; with MQTT_URL, give the bridge a user in that broker (e.g. mosquitto_passwd and an ACL for its base topic)',
      );
    const rotated = this.held.has(name);
    if (!rotated && this.held.size >= MAX_BRIDGE_CREDENTIALS)
      throw new ConflictException(
        `at most ${MAX_BRIDGE_CREDENTIALS} bridges have credentials; revoke one first`,
      );
    const secret = newDeviceSecret();
    const hash = hashDeviceSecret(secret);
    const now = Date.now();
    this.repo.upsertBridge(name, hash, now);
    this.held.set(name, hash);
    this.logger.log(
      `bridge credentials ${rotated ? 'rotated' : 'created'} for ${bridgeUsername(name)}`,
    );
    if (rotated) this.notify(name);
    return { name, username: bridgeUsername(name), secret, createdAt: now, rotated };
  }

  /** Revoke (the row goes) and close the bridge's live connections at once; false when unknown. */
  revoke(name: string): boolean {
    if (!this.held.has(name)) return false;
    this.repo.deleteBridge(name);
    this.held.delete(name);
    this.disown(name);
    this.connects.forget(name);
    this.logger.log(`bridge credentials revoked for ${bridgeUsername(name)}`);
    this.notify(name);
    return true;
  }

  list(): BridgeCredentialListResponse {
    this.connects.flush();
    return {
      credentials: this.repo.allBridges().map(({ name, createdAt, lastConnectAt }) => ({
        name,
        username: bridgeUsername(name),
        createdAt,
        lastConnectAt,
        ...(this.clientIds.has(name) ? { clientId: this.clientIds.get(name) } : {}),
      })),
    };
  }

  /** Whether a username is a bridge's (whatever comes after the prefix). */
  isBridgeUsername(username: string): boolean {
    return username.startsWith(BRIDGE_USERNAME_PREFIX);
  }

  /** The bridge a `bridge:<name>` username and secret prove, or null. */
  identify(username: string, password: string): BrokerIdentity | null {
    const name = username.slice(BRIDGE_USERNAME_PREFIX.length);
    const hash = this.held.get(name);
    if (hash === undefined || !deviceSecretMatches(hash, password)) return null;
    return { kind: 'bridge', name };
  }

  /**
   * The bridge a client id belongs to: the one that last connected with it (decision 0067,
   * addendum). zigbee2mqtt's fixed `mqtt.client_id` is so the bridge's from its first accepted
   * connect on, across restarts; without one, mqtt.js makes a random id per start, and each
   * start's replaces the last.
   */
  ownerOf(clientId: string): string | undefined {
    return this.owners.get(clientId);
  }

  /** A connection of this bridge was accepted under `clientId`, which is now its own. */
  connected(name: string, clientId: string): void {
    this.connects.note(name);
    if (this.clientIds.get(name) === clientId || !this.held.has(name)) return;
    this.repo.setBridgeClientId(name, clientId);
    this.own(name, clientId);
  }

  private own(name: string, clientId: string): void {
    this.disown(name);
    this.clientIds.set(name, clientId);
    this.owners.set(clientId, name);
  }

  private disown(name: string): void {
    const clientId = this.clientIds.get(name);
    if (clientId === undefined) return;
    this.clientIds.delete(name);
    if (this.owners.get(clientId) === name) this.owners.delete(clientId);
  }

  private notify(name: string): void {
    for (const listener of this.changed) listener({ kind: 'bridge', name });
  }
}
