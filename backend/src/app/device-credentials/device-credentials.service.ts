import {
  ConflictException,
  Inject,
  Injectable,
  Logger,
  OnModuleDestroy,
  OnModuleInit,
} from '@nestjs/common';
import type {
  CreateDeviceCredentialResponse,
  DeviceCredentialInfo,
  DeviceCredentialListResponse,
} from '@pulse/protocol';
import { bridgeUsername } from '@pulse/protocol';
import { isLoopbackHost } from '../common/loopback';
import { CONFIG, Config } from '../config/config';
import type { BrokerAuthority, BrokerIdentity, CredentialIdentity } from '../security/broker-auth';
import { BridgeCredentialsService } from './bridge-credentials.service';
import {
  DeviceCredentialsRepository,
  LAST_CONNECT_FLUSH_MS,
} from './device-credentials.repository';
import { BatchedTimes } from '../common/batched-times';
import { deviceSecretMatches, hashDeviceSecret, newDeviceSecret } from './device-secret';

/** ANONYMOUS_DEVICES, or its default for the HOST: on only while bound to loopback. */
export function anonymousDevicesOf(config: Pick<Config, 'ANONYMOUS_DEVICES' | 'HOST'>): boolean {
  return config.ANONYMOUS_DEVICES ?? isLoopbackHost(config.HOST);
}

/** Most device ids with credentials (live or revoked); more are refused with 409. */
export const MAX_DEVICE_CREDENTIALS = 100_000;

interface Held {
  hash: string;
  revoked: boolean;
}

/**
 * Per-device broker credentials: creates, rotates, revokes and lists them, and answers the
 * embedded broker's questions ({@link BrokerAuthority}: who is this, is this id reserved) from
 * memory — a CONNECT costs one SHA-256 and no SQLite read. Also holds the in-memory identities
 * of Pulse's own clients (the built-in simulator), which are never stored, and asks
 * BridgeCredentialsService who a `bridge:` username is.
 *
 * Owns the policy; the repository owns the SQL, the broker repository closes connections when
 * told ({@link onCredentialsChanged}). Never logs or keeps a secret: only its hash.
 */
@Injectable()
export class DeviceCredentialsService implements BrokerAuthority, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('DeviceCredentials');
  readonly anonymousDevices: boolean;
  private readonly held = new Map<string, Held>();
  private readonly services = new Map<
    string,
    { hash: string; mayPublishFor(deviceId: string): boolean }
  >();
  private readonly connects: BatchedTimes;
  private readonly changed: ((identity: CredentialIdentity) => void)[] = [];
  private readonly external: boolean;

  constructor(
    @Inject(CONFIG) config: Pick<Config, 'ANONYMOUS_DEVICES' | 'HOST' | 'MQTT_URL'>,
    private readonly repo: DeviceCredentialsRepository,
    private readonly bridges: BridgeCredentialsService,
  ) {
    this.connects = new BatchedTimes((times) => repo.recordConnects(times), {
      flushMs: LAST_CONNECT_FLUSH_MS,
      failed: (error) =>
        this.logger.warn(`last-connect times not saved: ${(error as Error).message}`),
    });
    bridges.onCredentialsChanged((identity) => this.notify(identity));
    this.anonymousDevices = anonymousDevicesOf(config);
    this.external = config.MQTT_URL !== undefined;
    for (const row of repo.all())
      this.held.set(row.deviceId, { hash: row.secretHash, revoked: row.revokedAt !== null });
    if (this.anonymousDevices && !this.external && !isLoopbackHost(config.HOST))
      this.logger.warn(
        `ANONYMOUS_DEVICES=true on HOST ${config.HOST}: any MQTT client that reaches the broker may publish as a device without credentials`,
      );
  }

  onModuleInit(): void {
    if (!this.external)
      this.logger.log(
        `device credentials: ${this.held.size} device(s); anonymous devices ${this.anonymousDevices ? 'allowed (ANONYMOUS_DEVICES=true)' : 'refused'}`,
      );
  }

  onModuleDestroy(): void {
    this.connects.flush(); // a failure is logged (the database may be closed already)
  }

  /**
   * `listener(identity)` when a device's secret is created, or a device's or a bridge's replaced
   * or revoked: close its connections, end what discovery took for the device id.
   */
  onCredentialsChanged(listener: (identity: CredentialIdentity) => void): void {
    this.changed.push(listener);
  }

  /** A new secret for the device (rotating any earlier one); shown in the answer and never again. */
  create(deviceId: string): CreateDeviceCredentialResponse {
    if (this.external)
      throw new ConflictException(
        'device credentials apply to the embedded broker; with MQTT_URL, add the device to that broker (e.g. mosquitto_passwd and an ACL pattern)',
      );
    // One of Pulse's own clients publishes for it (the built-in simulator's fleet): credentials
    // would lock it out, and a revoked id stays reserved, so it would never publish again.
    for (const [name, service] of this.services)
      if (service.mayPublishFor(deviceId))
        throw new ConflictException(
          `${deviceId} is published by Pulse's own ${name} (SIMULATOR=on); give the device another id`,
        );
    const rotated = this.held.has(deviceId);
    if (!rotated) this.refuseBridgeClientId(deviceId);
    if (!rotated && this.held.size >= MAX_DEVICE_CREDENTIALS)
      throw new ConflictException(`at most ${MAX_DEVICE_CREDENTIALS} devices have credentials`);
    const secret = newDeviceSecret();
    const hash = hashDeviceSecret(secret);
    const now = Date.now();
    this.repo.upsert(deviceId, hash, now);
    this.held.set(deviceId, { hash, revoked: false });
    this.connects.forget(deviceId);
    this.logger.log(`credentials ${rotated ? 'rotated' : 'created'} for device ${deviceId}`);
    // Told on creation too: discovery ends entities announced for the id before (decision 0067).
    this.notify({ kind: 'device', deviceId });
    return { deviceId, secret, createdAt: now, rotated };
  }

  /**
   * A device id that is a bridge's client id cannot get credentials: its device would own the id
   * and keep the bridge off the broker. Readings under such an id are most likely a client using
   * the bridge's id, not a device (decision 0067, addendum). Rotating existing credentials is not
   * refused (a leaked secret must stay replaceable); {@link ownerOfClientId} keeps the id the
   * bridge's over those.
   */
  private refuseBridgeClientId(deviceId: string): void {
    const bridge = this.bridges.ownerOf(deviceId);
    if (bridge !== undefined)
      throw new ConflictException(
        `${deviceId} is the MQTT client id ${bridgeUsername(bridge)} connects with: device credentials for it would keep that bridge off the broker; give the device another id, or connect the bridge with another client id (zigbee2mqtt: mqtt.client_id) or revoke it first`,
      );
  }

  /**
   * Revoke and close the device's live connections at once; false when it has none to revoke
   * (never had any, or revoked already: the first revoke's time is kept).
   */
  revoke(deviceId: string): boolean {
    const held = this.held.get(deviceId);
    if (!held || held.revoked) return false;
    this.repo.revoke(deviceId, Date.now());
    held.revoked = true;
    this.logger.log(`credentials revoked for device ${deviceId}`);
    this.notify({ kind: 'device', deviceId });
    return true;
  }

  list(): DeviceCredentialListResponse {
    this.connects.flush();
    const credentials: DeviceCredentialInfo[] = this.repo
      .all()
      .map(({ deviceId, createdAt, lastConnectAt, revokedAt }) => ({
        deviceId,
        createdAt,
        lastConnectAt,
        revokedAt,
      }));
    return { credentials };
  }

  /**
   * An in-memory identity for one of Pulse's own clients, valid until this process exits:
   * returns its secret (random per process, so nothing lasting can leak).
   */
  registerService(name: string, mayPublishFor: (deviceId: string) => boolean): string {
    const secret = newDeviceSecret();
    this.services.set(name, { hash: hashDeviceSecret(secret), mayPublishFor });
    return secret;
  }

  identify(username: string, password: string): BrokerIdentity | null {
    if (this.bridges.isBridgeUsername(username)) return this.bridges.identify(username, password);
    const service = this.services.get(username);
    if (service)
      return deviceSecretMatches(service.hash, password)
        ? { kind: 'service', name: username, mayPublishFor: service.mayPublishFor }
        : null;
    const held = this.held.get(username);
    if (!held || held.revoked || !deviceSecretMatches(held.hash, password)) return null;
    return { kind: 'device', deviceId: username };
  }

  isReserved(deviceId: string): boolean {
    return this.held.has(deviceId);
  }

  ownerOfClientId(clientId: string): CredentialIdentity | null {
    // A bridge's id first. A bridge cannot connect with a device's own id, and credentials are
    // not made for a bridge's (refuseBridgeClientId); so a device with credentials for a bridge's
    // id has them from before that refusal, made after the bridge owned it: the older claim wins,
    // whether they are live or revoked (the device's topics stay reserved either way).
    const bridge = this.bridges.ownerOf(clientId);
    if (bridge !== undefined) return { kind: 'bridge', name: bridge };
    return this.held.has(clientId) ? { kind: 'device', deviceId: clientId } : null;
  }

  connected(identity: BrokerIdentity, clientId: string): void {
    if (identity.kind === 'bridge') return this.bridges.connected(identity.name, clientId);
    if (identity.kind !== 'device') return;
    this.connects.note(identity.deviceId);
  }

  private notify(identity: CredentialIdentity): void {
    for (const listener of this.changed) listener(identity);
  }
}
