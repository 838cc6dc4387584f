import { Injectable, Logger } from '@nestjs/common';
import { createBroker } from 'aedes';
import type Aedes from 'aedes';
import { createServer, AddressInfo, Server } from 'node:net';
import { StartupError } from '../config/config';

/**
 * The embedded MQTT broker (Aedes, in memory) used when MQTT_URL is unset, so
 * `npm start` needs nothing else. Production points MQTT_URL at Mosquitto/EMQX.
 */
@Injectable()
export class EmbeddedBrokerRepository {
  private readonly logger = new Logger('EmbeddedBroker');
  private aedes: Aedes | null = null;
  private server: Server | null = null;

  /** Listen on host:port (0 = any free port); resolves with the actual port. */
  async start(host: string, port: number): Promise<number> {
    const aedes = createBroker();
    const server = createServer((socket) => {
      // Readings are small and latency matters more than packet count.
      socket.setNoDelay(true);
      aedes.handle(socket);
    });
    this.aedes = aedes;
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
    server.on('error', (error) =>
      this.logger.error(`broker server: ${error.message}`),
    );
    const actual = (server.address() as AddressInfo).port;
    this.logger.log(
      `embedded MQTT broker (Aedes) listening on ${host}:${actual}`,
    );
    return actual;
  }

  async stop(): Promise<void> {
    const { aedes, server } = this;
    this.aedes = null;
    this.server = null;
    if (server) server.close(); // stop accepting; resolves below once clients are gone
    if (aedes)
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
    if (server?.listening)
      await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
