import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { createAdapter } from '@socket.io/redis-adapter';
import { quote } from '@pulse/protocol';
import { Redis, RedisOptions } from 'ioredis';
import { RateLimitedLog } from '../common/rate-limited-log';
import { RedisConfig, RedisConnections } from '../common/redis-connections';
import { CONFIG } from '../config/config';
import type { LiveServer, PeerEvents } from './live-io.server';

/** Prefix of every key and channel Pulse uses on the shared Redis. */
const KEY = 'pulse';
/** A server-side event's publish not answered by Redis within this has failed (io-pub). */
const IO_COMMAND_TIMEOUT_MS = 5_000;
/** Socket.IO's Redis adapter's channels (its `key`, then `#<namespace>#…`). */
const IO_KEY = `${KEY}:io`;
/** The adapter's request type of a server-side event (`RequestType.SERVER_SIDE_EMIT`). */
const SERVER_SIDE_EMIT = 6;
/** The adapter's request to disconnect sockets (`RequestType.REMOTE_DISCONNECT`). */
const REMOTE_DISCONNECT = 4;
/** An adapter message dropped without a count: one every gateway sends (see adapterMessageFault). */
const DROP = Symbol('drop');
/**
 * What the name of every server-side event between Pulse's gateways begins with: the namespace
 * hands an event on to its listeners by name, its own (`connection`) and EventEmitter's (`error`)
 * included, so a name outside it is no gateway's. A newer build's `pulse:` event passes: no
 * listener here, nothing runs.
 */
const PEER_EVENT_PREFIX = 'pulse:';
/**
 * The server-side events gateways send each other, `asked` when the sender waits for answers
 * (serverSideEmitWithAck): the adapter hands their listener an answer only when the request has a
 * requestId, and without one the listener would call nothing (a TypeError in the adapter's
 * callback, an unhandled rejection).
 */
const PEER_EVENTS: Record<keyof PeerEvents, 'told' | 'asked'> = {
  'pulse:alert': 'told',
  'pulse:rules': 'told',
  'pulse:ack': 'asked',
  'pulse:rules-since': 'asked',
};

/**
 * Every connection of this gateway to the shared Redis (REDIS_URL): the two Socket.IO's Redis
 * adapter needs (server-side events between gateways: alerts, acks), and a publisher and a
 * subscriber of Pulse's own binary channels (readings frames, room interest; see
 * cross-gateway-fan-out.ts). Without REDIS_URL it opens nothing and {@link enabled} is false.
 *
 * Owns the connections, their errors (logged with the URL's password redacted, at a bounded rate)
 * and closing them; must not decide what is sent or who receives it.
 */
@Injectable()
export class LiveRedis implements OnApplicationShutdown {
  private readonly logger = new Logger('Redis');
  private readonly connections: RedisConnections;
  private readonly publisher: Redis | null = null;
  private readonly subscriber: Redis | null = null;
  /** The adapter's publishing connection (server-side events: alerts, acks, rules). */
  private eventsPublisher: Redis | null = null;
  private readonly handlers = new Map<string, (message: Buffer) => void>();
  /** Settles when Redis has confirmed every {@link subscribe} so far (failed ones included). */
  private subscribed: Promise<unknown> = Promise.resolve();
  private publishFailures = 0;
  /** Messages on the adapter's channels that no Pulse gateway sends (ignored). */
  private adapterRefusals = 0;
  private readonly rejectLog = new RateLimitedLog((line) => this.logger.warn(line));

  constructor(@Inject(CONFIG) config: RedisConfig) {
    this.connections = new RedisConnections(config, this.logger);
    if (!config.REDIS_URL) return;
    // Readings are live data: while Redis is away they are dropped and counted, not queued.
    this.publisher = this.connect('publisher', { enableOfflineQueue: false });
    this.subscriber = this.connect('subscriber');
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) =>
      this.handlers.get(channel.toString())?.(message),
    );
    this.logger.log(`gateways share alerts and readings through ${this.url}`);
  }

  get enabled(): boolean {
    return this.publisher !== null;
  }

  /** Connected to Redis now (the publisher; the adapter's own connections follow the same server). */
  get connected(): boolean {
    return this.publisher?.status === 'ready';
  }

  /**
   * Server-side events (alerts, acks, rules through the adapter) can be published now: the
   * adapter's publishing connection is ready. It has no offline queue: one sent while this is
   * false fails at once (counted in {@link failures}).
   */
  get eventsConnected(): boolean {
    return this.eventsPublisher?.status === 'ready';
  }

  /**
   * Call `listener` each time the adapter's publishing connection is (again) ready, at once when
   * it is ready already (see {@link onPublisherReady}: it may have been ready long before).
   */
  onEventsReady(listener: () => void): void {
    if (!this.eventsPublisher) return;
    this.eventsPublisher.on('ready', listener);
    if (this.eventsPublisher.status === 'ready') listener();
  }

  /** The Redis URL with its password redacted, for logs and stats. */
  get url(): string | null {
    return this.connections.url;
  }

  /** Install Socket.IO's Redis adapter on `io` (LiveIoAdapter calls it before any namespace). */
  readonly installAdapter = (io: LiveServer): void => {
    if (!this.enabled) return;
    io.adapter(
      createAdapter(this.adapterPublisher(), this.adapterSubscriber(), {
        key: IO_KEY,
        // An ack forwarded to the other gateways is answered within this (LiveGateway).
        requestsTimeout: 3000,
      }),
    );
  };

  /** Readiness (`/api/ready`): Redis answers PING now (it fails at once while unreachable). */
  async ping(): Promise<boolean> {
    return (await this.publisher?.ping()) === 'PONG';
  }

  /** Pulse's channel `name` (one namespace for every deployment sharing the Redis). */
  channel(name: string): string {
    return `${KEY}:live:${name}`;
  }

  /** Publish `message` on `channel`; false (and counted) while Redis is unreachable. */
  publish(channel: string, message: Buffer): boolean {
    if (!this.publisher) return false;
    if (this.publisher.status !== 'ready') {
      this.publishFailures++;
      return false;
    }
    this.publisher.publish(channel, message).catch((error: Error) => {
      this.publishFailures++;
      this.connections.report('publish', `publish on ${channel} failed: ${error.message}`);
    });
    return true;
  }

  /** Every message on `channel`, this gateway's own included. One handler per channel. */
  subscribe(channel: string, handler: (message: Buffer) => void): void {
    if (!this.subscriber) return;
    this.handlers.set(channel, handler);
    const done = this.connections.subscribe(this.subscriber, channel).catch((error: Error) => {
      this.connections.report('subscribe', `subscribe to ${channel} failed: ${error.message}`);
    });
    this.subscribed = Promise.all([this.subscribed, done]);
  }

  /** Once Redis has confirmed the channels subscribed so far: messages on them now arrive. */
  whenSubscribed(): Promise<void> {
    return this.subscribed.then(() => undefined);
  }

  /** Connections subscribed to `channel` now (PUBSUB NUMSUB; each gateway holds one). */
  async subscribers(channel: string): Promise<number> {
    if (!this.publisher) return 0;
    const reply = (await this.publisher.pubsub('NUMSUB', channel)) as [string, number | string];
    return Number(reply[1]) || 0;
  }

  /**
   * Call `listener` each time the publisher is (again) connected: first boot, Redis restarts; at
   * once when it is connected already. Nest makes this repository early and the caller later,
   * after awaiting async providers between them (the PostgreSQL stores with DATABASE_URL): the
   * first `ready` may be long gone by then, and a listener waiting for it waited in vain.
   */
  onPublisherReady(listener: () => void): void {
    if (!this.publisher) return;
    this.publisher.on('ready', listener);
    if (this.publisher.status === 'ready') listener();
  }

  /** Messages not published because Redis was unreachable. */
  failures(): number {
    return this.publishFailures;
  }

  /** Messages on the adapter's channels ignored: no Pulse gateway sends them (see adapterSubscriber). */
  adapterRefused(): number {
    return this.adapterRefusals;
  }

  async onApplicationShutdown(): Promise<void> {
    this.rejectLog.close();
    await this.connections.closeAll();
  }

  /**
   * The adapter's subscribing connection, through which only what Pulse's gateways send reaches
   * the adapter: server-side events (`serverSideEmit`, JSON) and the answers to them. The adapter
   * decodes and acts on whatever arrives on its channels (a message it cannot decode threw in the
   * subscriber's callback; a request to disconnect every socket was obeyed; a broadcast went to
   * every screen), and Pulse sends it no broadcast (every emit is `nsp.local`) nor any other
   * request: each such message is dropped before the adapter sees it, counted and logged at a
   * bounded rate. The payloads of the events themselves are checked where they are read
   * (PeerEvents). Checked as the connection emits them, once for every listener (each namespace's
   * adapter listens): the adapter's methods are private, so they are not overridden.
   */
  private adapterSubscriber(): Redis {
    const client = this.connect('io-sub');
    const emit = client.emit.bind(client);
    (client as unknown as { emit: (event: string | symbol, ...args: unknown[]) => boolean }).emit =
      (event, ...args) => {
        if (event === 'pmessageBuffer') {
          const [, channel, message] = args as Buffer[];
          this.refuseAdapter('a broadcast', channel, message);
          return true;
        }
        if (event === 'messageBuffer') {
          const [channel, message] = args as Buffer[];
          const fault = adapterMessageFault(channel.toString(), message);
          if (fault === DROP) return true;
          if (fault) {
            this.refuseAdapter(fault, channel, message);
            return true;
          }
        }
        return emit(event, ...args);
      };
    return client;
  }

  private refuseAdapter(why: string, channel: Buffer, message: Buffer): void {
    this.adapterRefusals++;
    this.rejectLog.report(
      'adapter',
      `ignored ${why} on the Redis adapter's channel ${quote(channel.toString(), 64)}: ${quote(message.toString('utf8', 0, 120), 80)}`,
    );
  }

  /**
   * The adapter's publishing connection. Without an offline queue: while Redis is away a
   * server-side event fails at once instead of waiting, unbounded, in the client's memory for
   * Redis to return (alert events are held by LiveEmitter instead, the newest of each alert, and
   * rules and acks are asked again). The adapter does not catch its publishes, so one that fails
   * would be an unhandled rejection, which ends a Node process: each is caught here, counted with
   * this gateway's other publish failures and logged at a bounded rate.
   */
  private adapterPublisher(): Redis {
    const client = this.connect('io-pub', {
      enableOfflineQueue: false,
      // A command written to a connection that then died is not sent again on the next one (an
      // alert's newest state is, by LiveEmitter), and one unanswered on a half-open connection
      // fails after this instead of waiting, with every one after it, for ever.
      autoResendUnfulfilledCommands: false,
      commandTimeout: IO_COMMAND_TIMEOUT_MS,
    });
    this.eventsPublisher = client;
    const publish = client.publish.bind(client) as (...args: unknown[]) => Promise<number>;
    (client as unknown as { publish: (...args: unknown[]) => Promise<number> }).publish = (
      ...args: unknown[]
    ) =>
      publish(...args).catch((error: Error) => {
        this.publishFailures++;
        this.connections.report('adapter', `server-side event not published: ${error.message}`);
        return 0;
      });
    return client;
  }

  private connect(role: string, options: RedisOptions = {}): Redis {
    return this.connections.connect(role, options);
  }
}

/**
 * Why a message on the adapter's request or response channel is none a Pulse gateway sends, or
 * null: a request must be a server-side event (JSON `{type: 6, uid, data: [...], requestId?}`,
 * as `serverSideEmit` publishes it, named `pulse:…`, with its requestId when it is one of those
 * asked: PEER_EVENTS), a response an answer to one (`{type: 6, requestId, data}`).
 * DROP: the request to disconnect the main namespace's sockets that every gateway (this build and
 * those before) sends as it stops (`LiveEmitter.close`: `io.disconnectSockets`); that namespace
 * serves nobody (EntryGuard refuses it), so it is dropped, not counted. Other channels pass (the
 * adapter ignores them). Read once more by the adapter: these are rare.
 */
function adapterMessageFault(channel: string, message: Buffer): string | typeof DROP | null {
  const request = channel.startsWith(`${IO_KEY}-request#`);
  if (!request && !channel.startsWith(`${IO_KEY}-response#`)) return null;
  if (message[0] !== 0x7b) return 'a message that is not JSON'; // `{`: the adapter's JSON form
  let value: unknown;
  try {
    value = JSON.parse(message.toString('utf8'));
  } catch {
    return 'a message that is not JSON';
  }
  if (typeof value !== 'object' || value === null) return 'a message that is no object';
  const { type, uid, data, requestId } = value as Record<string, unknown>;
  if (type === REMOTE_DISCONNECT && channel === `${IO_KEY}-request#/#`) return DROP;
  if (type !== SERVER_SIDE_EMIT) return 'a request Pulse never makes';
  if (!request) return typeof requestId === 'string' ? null : 'an answer to no request';
  if (typeof uid !== 'string' || !Array.isArray(data)) return 'a malformed server-side event';
  if (requestId !== undefined && typeof requestId !== 'string')
    return 'a malformed server-side event';
  const event: unknown = data[0];
  if (typeof event !== 'string' || !event.startsWith(PEER_EVENT_PREFIX))
    return 'an event no gateway sends';
  if (PEER_EVENTS[event as keyof PeerEvents] === 'asked' && requestId === undefined)
    return 'an event asked without its answer';
  return null;
}
