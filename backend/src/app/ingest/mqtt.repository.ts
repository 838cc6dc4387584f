import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { Backoff, DEVICE_SUBSCRIPTIONS, sharedSubscription, telemetryTopic } from '@pulse/protocol';
import mqtt, { IConnackPacket, MqttClient } from 'mqtt';
import type { InProcessBroker, InProcessHandler } from '../broker/embedded-broker.repository';
import { CONFIG, Config } from '../config/config';
import type { MqttClientAuth } from '../config/secret-files';
import { RateLimitedLog } from '../common/rate-limited-log';

export interface MqttHandlers {
  /** Called for every message; must not throw (it is wrapped anyway). */
  message(topic: string, payload: Buffer, qos: number): void;
  connection(connected: boolean): void;
  /**
   * After each message: a promise to hold the broker's acknowledgement on (PUBACK to the
   * device, or to the external broker) while a downstream store catches up; null: at once.
   */
  backpressure?(): Promise<void> | null;
}

/** How long `connect()` waits for the first CONNACK + SUBACK before going on in the background. */
const FIRST_CONNECT_WAIT_MS = 5000;

/**
 * mqtt.js calls its `debug` logger several times per packet even when debugging is off
 * (a call with arguments each time); mqtt.js 5 takes `options.log`, so give it nothing to do.
 */
const noLog = (): void => undefined;

/**
 * The one owner of the ingest's link to the broker: an mqtt.js 5 client for an
 * external broker (`connect`), or an in-process subscription to the embedded
 * Aedes (`attachInProcess`: no loopback socket, no second MQTT encode/parse per
 * message). Either way every message reaches `handlers.message` the same way.
 *
 * External broker:
 * - Persistent session: `clean: false` with a stable client id, so the broker
 *   queues QoS 1 messages while the gateway restarts.
 * - QoS 1 subscriptions to DEVICE_SUBSCRIPTIONS, made again after a CONNACK
 *   without `sessionPresent` (new session or broker lost it).
 * - Growing reconnect backoff (1 s → 30 s with jitter): mqtt.js only has a
 *   fixed `reconnectPeriod`, so it is set to 0 and reconnects are scheduled
 *   here with the public `client.reconnect()`.
 *
 * - Several gateways (REDIS_URL set): telemetry through the shared subscription
 *   `$share/{MQTT_SHARED_GROUP}/devices/+/telemetry`, so the broker hands each reading to one
 *   of them (the live layer sends it to the others' screens); status and meta stay plain, every
 *   gateway's registry needs them. Clean sessions then: a broker keeps handing a shared
 *   subscription's share to a persistent session whose gateway died, where nobody reads it.
 *
 * Must not decode or route messages (IngestService does): it hands every one on as received.
 */
@Injectable()
export class MqttRepository {
  private readonly logger = new Logger('Mqtt');
  private readonly errorLog = new RateLimitedLog((line) => this.logger.warn(line));
  private readonly backoff = new Backoff(1000, 30_000);
  private client: MqttClient | null = null;
  private detachInProcess: (() => Promise<void>) | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private closing = false;
  private onReady: (() => void) | null = null;
  private everConnected = false;
  connected = false;
  /** What is subscribed: the contract's filters and the ingest sources' (set by the caller). */
  private filters: readonly string[] = DEVICE_SUBSCRIPTIONS;
  /** The embedded broker and our handler on it, for filters added later ({@link updateFilters}). */
  private inProcess: { broker: InProcessBroker; handler: InProcessHandler } | null = null;
  /** Filters added later; in-process, each with its unsubscribe. */
  private readonly added = new Map<string, Promise<() => Promise<void>> | null>();
  /** Filters added while the external broker was away: a resumed session does not have them. */
  private readonly unconfirmed = new Set<string>();
  /** Successful reconnections after the first connection. */
  reconnects = 0;

  constructor(
    /** REDIS_URL and MQTT_SHARED_GROUP (absent in the unit spec: one gateway). */
    @Optional()
    @Inject(CONFIG)
    private readonly config?: Pick<Config, 'REDIS_URL' | 'MQTT_SHARED_GROUP'>,
  ) {}

  /** Embedded broker: subscribe in-process; resolves once subscribed. */
  async attachInProcess(
    broker: InProcessBroker,
    handlers: MqttHandlers,
    extraFilters: readonly string[] = [],
  ): Promise<void> {
    this.filters = [...DEVICE_SUBSCRIPTIONS, ...extraFilters];
    const handler: InProcessHandler = (topic, payload, qos) => {
      this.deliver(handlers, topic, payload, qos);
      return handlers.backpressure?.() ?? undefined;
    };
    this.inProcess = { broker, handler };
    this.detachInProcess = await broker.subscribe(this.filters, handler);
    this.connected = true;
    this.everConnected = true;
    handlers.connection(true);
  }

  /**
   * `url` carries no password (config refuses one); `auth` holds MQTT_USERNAME, the password
   * read from MQTT_PASSWORD_FILE and the TLS files, and never reaches a log line.
   */
  connect(
    url: string,
    clientId: string,
    handlers: MqttHandlers,
    auth: MqttClientAuth = {},
    extraFilters: readonly string[] = [],
  ): Promise<void> {
    const group = this.config?.REDIS_URL ? this.config.MQTT_SHARED_GROUP : null;
    const telemetry = telemetryTopic('+');
    this.filters = [
      ...DEVICE_SUBSCRIPTIONS.map((filter) =>
        group !== null && filter === telemetry ? sharedSubscription(group, filter) : filter,
      ),
      ...extraFilters,
    ];
    this.logger.log(`subscribing to ${this.filters.join(', ')}`);
    const client = mqtt.connect(url, {
      ...auth,
      clientId,
      clean: group !== null,
      reconnectPeriod: 0,
      resubscribe: false,
      keepalive: 30,
      connectTimeout: 10_000,
      queueQoSZero: false,
      log: noLog,
    });
    this.client = client;

    client.on('connect', (connack: IConnackPacket) => {
      // Nagle would hold PUBACKs and subscriptions back by up to 40 ms for nothing.
      (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
      this.connected = true;
      this.backoff.reset();
      if (this.everConnected) this.reconnects++;
      this.everConnected = true;
      this.logger.log(
        `connected to ${url} as ${clientId} (session ${connack.sessionPresent ? 'resumed' : 'new'})`,
      );
      handlers.connection(true);
      const missed = [...this.unconfirmed];
      this.unconfirmed.clear();
      if (!connack.sessionPresent) this.subscribeTo(client, this.filters, () => this.markReady());
      else {
        if (missed.length) this.subscribeTo(client, missed);
        this.markReady();
      }
    });
    client.on('message', (topic, payload, packet) =>
      this.deliver(handlers, topic, payload, packet.qos),
    );
    // mqtt.js sends the PUBACK once handleMessage calls back (after the 'message' event, so a
    // QoS 1 message's readings are journaled before it: history-journal.ts).
    client.handleMessage = (_packet, callback) => {
      const wait = handlers.backpressure?.();
      if (wait) void wait.then(() => callback());
      else callback();
    };
    client.on('error', (error) =>
      this.errorLog.report('error', `broker ${url}: ${describeError(error, auth.username)}`),
    );
    client.on('close', () => {
      if (this.connected) {
        this.connected = false;
        if (!this.closing) this.logger.warn(`connection to ${url} lost`);
        handlers.connection(false);
      }
      this.scheduleReconnect(client);
    });

    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.logger.warn(`no connection to ${url} yet; retrying in the background`);
        resolve();
      }, FIRST_CONNECT_WAIT_MS);
      timer.unref();
      // Ready = connected AND subscribed, so nothing published after startPulse() is missed.
      this.onReady = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * Subscribe `added` and drop `removed` while running (topics Home Assistant discovery
   * announced): in-process on the embedded broker (effective at once), a SUBSCRIBE on the
   * external one (remembered for a reconnect, and made again on a resumed session that missed it).
   */
  updateFilters(added: readonly string[], removed: readonly string[]): void {
    // Only what was added here is ever dropped: the configured filters stay.
    const gone = new Set(removed.filter((f) => this.added.has(f)));
    const fresh = [...new Set(added)].filter((f) => !this.filters.includes(f) || gone.has(f));
    for (const f of gone) {
      const detach = this.added.get(f);
      this.added.delete(f);
      void detach?.then((off) => off());
    }
    this.filters = [...this.filters.filter((f) => !gone.has(f)), ...fresh];
    const inProcess = this.inProcess;
    for (const f of fresh)
      this.added.set(f, inProcess ? inProcess.broker.subscribe([f], inProcess.handler) : null);
    if (inProcess) return;
    const client = this.client;
    if (!client) return;
    if (!client.connected) {
      for (const f of fresh) this.unconfirmed.add(f);
      for (const f of gone) this.unconfirmed.delete(f);
      return;
    }
    if (fresh.length) this.subscribeTo(client, fresh);
    if (gone.size) client.unsubscribe([...gone]);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.inProcess = null;
    const added = [...this.added.values()];
    this.added.clear();
    for (const detach of added) if (detach) await (await detach)();
    const detach = this.detachInProcess;
    this.detachInProcess = null;
    if (detach) {
      this.connected = false;
      await detach();
    }
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const client = this.client;
    this.client = null;
    if (!client) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      client.end(!client.connected, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private deliver(handlers: MqttHandlers, topic: string, payload: Buffer, qos: number): void {
    try {
      handlers.message(topic, payload, qos);
    } catch (error) {
      // Never let a bug in one message stop the client (or the broker's pipeline).
      this.errorLog.report('handler', `message handler failed on ${topic}: ${String(error)}`);
    }
  }

  private markReady(): void {
    const onReady = this.onReady;
    this.onReady = null;
    onReady?.();
  }

  private subscribeTo(client: MqttClient, filters: readonly string[], done?: () => void): void {
    const topics: Record<string, { qos: 1 }> = {};
    for (const filter of filters) topics[filter] = { qos: 1 };
    client.subscribe(topics, (error, granted) => {
      done?.();
      if (error) {
        this.logger.error(`subscribe failed: ${error.message}`);
        return;
      }
      for (const grant of granted ?? []) {
        if (grant.qos > 2) this.logger.error(`broker refused subscription ${grant.topic}`);
      }
    });
  }

  private scheduleReconnect(client: MqttClient): void {
    if (this.closing || this.reconnectTimer || client !== this.client) return;
    const delay = this.backoff.next();
    this.logger.debug(`reconnecting in ${delay} ms`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (!this.closing) client.reconnect();
    }, delay);
  }
}

/**
 * The log text of a client error. A refused CONNECT (MQTT 3.1.1 CONNACK 4 bad credentials, 5 not
 * authorized; MQTT 5 134/135) names the username and where the password comes from, never the
 * password itself.
 */
function describeError(error: Error & { code?: unknown }, username: string | undefined): string {
  if (error.code === 4 || error.code === 5 || error.code === 134 || error.code === 135) {
    const who =
      username === undefined ? 'anonymously' : `as MQTT_USERNAME ${JSON.stringify(username)}`;
    return `broker refused to connect ${who} (${error.message}): check MQTT_USERNAME and MQTT_PASSWORD_FILE`;
  }
  return error.message;
}
