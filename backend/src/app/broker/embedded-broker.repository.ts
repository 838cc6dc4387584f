import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
// Aedes 2 (MQTT 3.1, 3.1.1 and 5), ESM-only: loaded with require(esm) once built
// (docs/decisions/0026-mqtt5-embedded-broker.md).
import { Aedes } from 'aedes';
import { createServer, AddressInfo, Server, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { CONFIG, Config, StartupError } from '../config/config';
import type { TlsMaterial } from '../config/secret-files';
import { DeviceCredentialsService } from '../device-credentials/device-credentials.service';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { BrokerAuthenticator } from '../security/broker-auth';
import { brokerHooks, guardPacketSize, MAX_MQTT_PACKET_BYTES } from '../security/broker-guard';
import { countBrokerOwnRefusals } from '../security/broker-own-refusals';
import { ConnectionCaps } from '../security/connection-caps';
import { PublishRate } from '../security/publish-rate';
import { RetainedBound, RetainedStore } from '../security/retained-bound';
import { SecurityCounters } from '../security/security-counters.service';
import { SOURCE_ROUTER, SourceRouter } from '../ingest/sources/source-router';
import { InProcessBroker, InProcessDelivery } from './in-process-delivery';
import { passOnPublishProperties } from './publish-properties';
import { MAX_QUEUED_PER_SESSION, MAX_UNRELEASED_PER_CLIENT, SessionBounds } from './session-bounds';

export type { InProcessBroker, InProcessHandler } from './in-process-delivery';

/**
 * Longest MQTT 5 Session Expiry Interval (s) a client gets, whatever it asks: a session that
 * outlives its connection (subscriptions, queued messages, a delayed Last Will) is held in memory
 * until then. A day covers a device rebooting or a night without network; a Will Delay Interval
 * is bounded by it too (MQTT 5 §3.1.3.2.2: the will is sent when the session ends, if earlier).
 */
export const SESSION_EXPIRY_LIMIT_SECONDS = 24 * 60 * 60;

/**
 * The embedded MQTT broker (Aedes, in memory) used when MQTT_URL is unset, so
 * `npm start` needs nothing else. Production points MQTT_URL at Mosquitto/EMQX.
 *
 * `create()` makes the broker, `listen()` opens its TCP port: in between the
 * ingest subscribes in-process (see {@link InProcessBroker}), so nothing a
 * device publishes can arrive before the ingest listens.
 *
 * Owns the Aedes instance and its TCP server; must not decode or route device messages (the
 * ingest's handler does), define what devices may publish (security/broker-guard.ts supplies
 * the hooks) or decide when it runs (PulseRuntime).
 */
@Injectable()
export class EmbeddedBrokerRepository {
  private readonly logger = new Logger('EmbeddedBroker');
  private aedes: Aedes | null = null;
  /** `aedes.listen()` (its store and timers), started by the first listener. */
  private started: Promise<void> | null = null;
  private sessions: SessionBounds | null = null;
  private readonly maxConnections: number;
  private servers: Server[] = [];
  /** Shared by the plain and TLS listeners: a client counts once whichever port it uses. */
  private readonly caps: ConnectionCaps;
  /** Who each connection is and which client ids they hold (security/broker-auth.ts). */
  private readonly auth: BrokerAuthenticator;
  private readonly publishRate: PublishRate;
  private readonly retained: RetainedBound;

  constructor(
    private readonly counters: SecurityCounters,
    @Inject(CONFIG)
    config: Pick<
      Config,
      | 'MQTT_MAX_CONNECTIONS'
      | 'MQTT_MAX_CONNECTIONS_PER_IP'
      | 'CONNECTION_CAP_EXEMPT'
      | 'MQTT_MAX_PUBLISH_PER_SECOND'
      | 'MAX_DEVICES'
    >,
    private readonly credentials: DeviceCredentialsService,
    registry: DeviceRegistryService,
    /** Ingest sources' topics the ACL lets devices publish to (absent in unit specs: none). */
    @Optional() @Inject(SOURCE_ROUTER) private readonly sources?: SourceRouter,
  ) {
    this.maxConnections = config.MQTT_MAX_CONNECTIONS;
    this.caps = new ConnectionCaps({
      total: config.MQTT_MAX_CONNECTIONS,
      perIp: config.MQTT_MAX_CONNECTIONS_PER_IP,
      exempt: config.CONNECTION_CAP_EXEMPT,
    });
    this.auth = new BrokerAuthenticator(counters, credentials);
    // A rotated or revoked secret (a device's or a bridge's) must not keep a connection made with it.
    credentials.onCredentialsChanged((identity) => this.auth.disconnect(identity));
    this.publishRate = new PublishRate(counters, {
      perSecond: config.MQTT_MAX_PUBLISH_PER_SECOND,
      exempt: config.CONNECTION_CAP_EXEMPT,
    });
    // status + meta for every device the registry may hold; an evicted device's are cleared.
    this.retained = new RetainedBound(counters, 2 * config.MAX_DEVICES);
    registry.onGone((deviceId) =>
      this.retained.forgetDevice(deviceId, retainedStoreOf(this.aedes)),
    );
  }

  /** Create the broker (not listening yet). */
  create(): InProcessBroker {
    // Who connects (device credentials, anonymous devices, client-id takeover), then the topic
    // ACL per identity, retained and size bounds (docs/limits.md), then the per-client publish
    // rate on what the ACL allows (security/publish-rate.ts), then the bound on retained
    // topics (security/retained-bound.ts).
    // Then the in-process delivery: an allowed QoS 1 message reaches the ingest before its
    // PUBACK is written (broker/in-process-delivery.ts). Around it all, what a message carries
    // on: only a PUBLISH's own MQTT 5 properties, never a will's delay (broker/publish-properties.ts).
    const hooks = brokerHooks(this.counters, this.credentials, this.sources);
    const delivery = new InProcessDelivery();
    // Not started yet (Aedes 2 starts its store in `aedes.listen()`, done by the first
    // listen() below); subscribing in-process needs only its router, made here.
    const aedes = new Aedes({
      // A bridge gets a clean session whatever it asks (security/broker-auth.ts).
      preConnect: this.auth.preConnect,
      authenticate: this.auth.authenticate,
      ...hooks,
      authorizePublish: passOnPublishProperties(
        delivery.beforeAck(this.retained.guard(this.publishRate.guard(hooks.authorizePublish))),
      ),
      // MQTT 5: advertised in CONNACK, and an oversize packet from a connected v5 client is
      // answered with DISCONNECT 0x95 (guardPacketSize leaves it to Aedes). Aedes counts the
      // whole packet; one header byte and three length bytes make the same bound as ours.
      maximumPacketSize: MAX_MQTT_PACKET_BYTES + 4,
      // MQTT 5 sessions and delayed wills held after a disconnect: bounded in time and number
      // (one per connection the broker may hold), so cycling client ids cannot grow them.
      sessionExpiryIntervalLimit: SESSION_EXPIRY_LIMIT_SECONDS,
      pendingSessionsLimit: this.maxConnections,
    });
    // What Aedes refuses before any hook (a wildcard topic in a PUBLISH) is counted too.
    countBrokerOwnRefusals(aedes, this.counters);
    // MQTT 3.1.1 sessions bounded as MQTT 5's are above, every session's queue, and what a client
    // leaves unacknowledged or unreleased (broker/session-bounds.ts).
    const sessions = (this.sessions = new SessionBounds(aedes, {
      maxSessions: this.maxConnections,
      expiryMs: SESSION_EXPIRY_LIMIT_SECONDS * 1000,
      maxQueued: MAX_QUEUED_PER_SESSION,
      maxUnreleased: MAX_UNRELEASED_PER_CLIENT,
    }));
    this.aedes = aedes;
    this.started = null;
    return {
      subscribe: (filters, handler) => delivery.subscribe(aedes, filters, handler),
      sessions: () => sessions.stats(),
    };
  }

  /**
   * Listen on host:port (0 = any free port), plain MQTT, or MQTT over TLS with `tls` (the
   * `mqtts` listener); resolves with the actual port. Call once per listener.
   */
  async listen(host: string, port: number, tls?: TlsMaterial): Promise<number> {
    const aedes = this.aedes;
    if (!aedes) throw new Error('EmbeddedBrokerRepository.listen() before create()');
    // Aedes creates its message store as it starts: the session bounds wrap it then.
    const sessions = this.sessions;
    this.started ??= aedes.listen().then(() => sessions?.bindStore());
    await this.started;
    const name = tls ? 'MQTT_TLS_PORT' : 'MQTT_PORT';
    const server = tls
      ? createTlsServer({ cert: tls.cert, key: tls.key }, (socket) => this.serve(aedes, socket))
      : createServer((socket) => this.serve(aedes, socket));
    this.servers.push(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        void new Promise<void>((done) => aedes.close(() => done()));
        reject(
          error.code === 'EADDRINUSE'
            ? new StartupError(
                `${name} ${port} on ${host} is already in use (another broker?): set ${name}=0 for any free port, or MQTT_URL=mqtt://${host}:${port} to use that broker`,
              )
            : error,
        );
      });
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (error) => this.logger.error(`broker server: ${error.message}`));
    // A failed TLS handshake (a plain client on the mqtts port) is the client's problem.
    server.on('tlsClientError', () => undefined);
    const actual = (server.address() as AddressInfo).port;
    this.logger.log(
      `embedded MQTT broker (Aedes) listening on ${host}:${actual}${tls ? ' (mqtts)' : ''}`,
    );
    return actual;
  }

  /** One accepted connection: the caps first (refused = closed before any MQTT), then Aedes. */
  private serve(aedes: Aedes, socket: Socket): void {
    const release = this.caps.open(socket.remoteAddress);
    if (typeof release === 'string') {
      this.counters.refuse(
        release === 'total' ? 'mqtt_connections_total' : 'mqtt_connections_ip',
        `MQTT connection from ${socket.remoteAddress ?? 'a client'} (${this.caps.count} open)`,
      );
      socket.destroy();
      return;
    }
    socket.once('close', release);
    // Readings are small and latency matters more than packet count.
    socket.setNoDelay(true);
    const client = aedes.handle(socket);
    // A connected MQTT 5 client is told why (DISCONNECT 0x95) by Aedes itself.
    guardPacketSize(socket, this.counters, () => client.version === 5 && client.connected);
  }

  async stop(): Promise<void> {
    const { aedes, servers } = this;
    this.aedes = null;
    this.servers = [];
    // Stop accepting; the close callbacks below resolve once the clients are gone.
    const closed = servers
      .filter((server) => server.listening)
      .map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await Promise.all(closed);
  }
}

/**
 * The broker's message store (`aedes.persistence`: set from the `persistence` option, in memory
 * by default, once the broker listens). Aedes's typings leave it out; its retained-message call is
 * aedes-persistence's documented interface.
 */
function retainedStoreOf(aedes: Aedes | null): RetainedStore | undefined {
  return aedes ? (aedes as unknown as { persistence?: RetainedStore }).persistence : undefined;
}
