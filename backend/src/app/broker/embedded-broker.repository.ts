import { Injectable, Logger } from '@nestjs/common';
import { createBroker } from 'aedes';
import type Aedes from 'aedes';
import { createServer, AddressInfo, Server } from 'node:net';
import { StartupError } from '../config/config';
import { brokerHooks, guardPacketSize } from '../security/broker-guard';
import { SecurityCounters } from '../security/security-counters.service';

/** A message as the broker routes it: topic and payload bytes. */
export type InProcessHandler = (topic: string, payload: Buffer) => void;

/**
 * The part of the embedded broker the ingest uses: an in-process subscription
 * (no socket, no MQTT encode/parse, no second copy of every packet).
 */
export interface InProcessBroker {
  /** Subscribe `handler` to the filters; resolves once the broker routes to it. */
  subscribe(filters: readonly string[], handler: InProcessHandler): Promise<() => Promise<void>>;
}

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
  private server: Server | null = null;

  constructor(private readonly counters: SecurityCounters) {}

  /** Create the broker (not listening yet). */
  create(): InProcessBroker {
    // Topic ACL, retained and size bounds for anonymous devices (docs/limits.md).
    const aedes = createBroker(brokerHooks(this.counters));
    this.aedes = aedes;
    return {
      subscribe: (filters, handler) => subscribeInProcess(aedes, filters, handler),
    };
  }

  /** Listen on host:port (0 = any free port); resolves with the actual port. */
  async listen(host: string, port: number): Promise<number> {
    const aedes = this.aedes;
    if (!aedes) throw new Error('EmbeddedBrokerRepository.listen() before create()');
    const server = createServer((socket) => {
      // Readings are small and latency matters more than packet count.
      socket.setNoDelay(true);
      aedes.handle(socket);
      guardPacketSize(socket, this.counters);
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        void new Promise<void>((done) => aedes.close(() => done()));
        reject(
          error.code === 'EADDRINUSE'
            ? new StartupError(
                `MQTT_PORT ${port} on ${host} is already in use (another broker?): set MQTT_PORT=0 for any free port, or MQTT_URL=mqtt://${host}:${port} to use that broker`,
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
    const actual = (server.address() as AddressInfo).port;
    this.logger.log(`embedded MQTT broker (Aedes) listening on ${host}:${actual}`);
    return actual;
  }

  async stop(): Promise<void> {
    const { aedes, server } = this;
    this.aedes = null;
    this.server = null;
    if (server) server.close(); // stop accepting; resolves below once clients are gone
    if (aedes) await new Promise<void>((resolve) => aedes.close(() => resolve()));
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * Deliver every message matching `filters` to `handler`, inside the broker's
 * publish pipeline: Aedes waits for the callback before it acknowledges a
 * QoS 1 PUBLISH to the device, so a PUBACK means the reading is ingested
 * (history, live hub, alerts) — at-least-once without a broker session. The
 * broker lives and dies with this process, so there is nothing to resume.
 * Retained messages are not replayed to in-process subscribers, which is why
 * the subscription is made before the broker listens (nothing is retained yet).
 */
function subscribeInProcess(
  aedes: Aedes,
  filters: readonly string[],
  handler: InProcessHandler,
): Promise<() => Promise<void>> {
  const deliver = (packet: { topic: string; payload: string | Buffer }, done: () => void): void => {
    const { payload } = packet;
    handler(packet.topic, typeof payload === 'string' ? Buffer.from(payload) : payload);
    done();
  };
  const each = (call: (filter: string, fn: typeof deliver, done: () => void) => void) =>
    Promise.all(
      filters.map((filter) => new Promise<void>((resolve) => call(filter, deliver, resolve))),
    ).then(() => undefined);
  return each((f, fn, done) => aedes.subscribe(f, fn, done)).then(
    () => () => each((f, fn, done) => aedes.unsubscribe(f, fn, done)),
  );
}
