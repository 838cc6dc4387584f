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

/** A drained session is left once nothing came from it for this long after the unsubscribe. */
export const DRAIN_QUIET_MS = 1000;
/** A drain ends after this long whatever comes (a stream that never goes quiet). */
export const DRAIN_MAX_MS = 60_000;

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
 *   gateway's registry needs them. Persistent sessions there too, so what was in flight to a
 *   gateway that dies is not lost: the broker keeps it, and its share of what follows, in that
 *   session until a survivor drains it ({@link drain}, SessionDrain) or the gateway comes back.
 *   The shared filter is subscribed on every connect (a drained session has lost it) and
 *   unsubscribed first at a clean stop, so a stopped gateway's session is not handed shares.
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
  /** The shared telemetry filter (several gateways), null otherwise. */
  private shared: string | null = null;

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
    this.shared = group === null ? null : sharedSubscription(group, telemetry);
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
      clean: false,
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
        // A survivor that drained this session while we were away unsubscribed the share.
        const again = this.shared && !missed.includes(this.shared) ? [this.shared] : [];
        if (missed.length + again.length) this.subscribeTo(client, [...missed, ...again]);
        this.markReady();
      }
    });
    client.on('message', (topic, payload, packet) =>
      this.deliver(handlers, topic, payload, packet.qos),
    );
    ackAfterHandling(client, handlers);
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
    // The broker must stop handing this session shares before we go (its session stays).
    const shared = this.shared;
    if (shared && client.connected)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        client.unsubscribe(shared, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      client.end(!client.connected, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.errorLog.close();
  }

  /**
   * Drain another gateway's session (`clientId`, several gateways): connect once as it, stop the
   * broker handing it shares (unsubscribe the shared filter), take what it held — messages in
   * flight to the dead gateway, redelivered, and its share of what followed — through `handlers`
   * (QoS 1 acknowledged after them, as on the main link), and leave once nothing came for
   * DRAIN_QUIET_MS, or at DRAIN_MAX_MS. Never reconnects: a gateway that comes back takes its
   * client id over and ends the drain. Resolves to the messages taken.
   */
  drain(
    url: string,
    clientId: string,
    handlers: Pick<MqttHandlers, 'message' | 'backpressure'>,
    auth: MqttClientAuth = {},
  ): Promise<number> {
    const shared = this.shared;
    if (!shared) return Promise.resolve(0);
    return new Promise((resolve) => {
      let taken = 0;
      let unsubscribed = false;
      let quiet: ReturnType<typeof setTimeout> | null = null;
      const client = mqtt.connect(url, {
        ...auth,
        clientId,
        clean: false,
        reconnectPeriod: 0,
        keepalive: 30,
        connectTimeout: 10_000,
        log: noLog,
      });
      const done = () => {
        if (quiet) clearTimeout(quiet);
        clearTimeout(limit);
        resolve(taken);
      };
      const finish = () => client.end(false, {}, done);
      const limit = setTimeout(finish, DRAIN_MAX_MS);
      const rearm = () => {
        if (quiet) clearTimeout(quiet);
        if (unsubscribed) quiet = setTimeout(finish, DRAIN_QUIET_MS);
      };
      client.on('connect', (connack: IConnackPacket) => {
        if (!connack.sessionPresent) return finish(); // nothing kept for it (or expired)
        client.unsubscribe(shared, () => {
          unsubscribed = true;
          rearm();
        });
      });
      client.on('message', (topic, payload, packet) => {
        taken++;
        this.deliver(handlers, topic, payload, packet.qos);
        rearm();
      });
      ackAfterHandling(client, handlers);
      client.on('error', (error) =>
        this.errorLog.report(
          'drain',
          `draining ${clientId}: ${describeError(error, auth.username)}`,
        ),
      );
      // Taken over (the gateway came back), refused or unreachable: done either way.
      client.on('close', () => {
        client.end(true);
        done();
      });
    });
  }

  private deliver(
    handlers: Pick<MqttHandlers, 'message'>,
    topic: string,
    payload: Buffer,
    qos: number,
  ): void {
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
 * mqtt.js sends a message's PUBACK once `handleMessage` calls back, which it calls after the
 * 'message' event: a QoS 1 message's readings are journaled before it (history-journal.ts), and
 * it waits while the history store asks for backpressure.
 */
function ackAfterHandling(client: MqttClient, handlers: Pick<MqttHandlers, 'backpressure'>): void {
  client.handleMessage = (_packet, callback) => {
    const wait = handlers.backpressure?.();
    if (wait) void wait.then(() => callback());
    else callback();
  };
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
