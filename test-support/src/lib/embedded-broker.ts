/**
 * An in-process Aedes broker on a free loopback port, for tests that need a real MQTT broker
 * without a Pulse backend around it (the simulator's). Owns that broker and its TCP server only.
 */
import { AddressInfo, createServer, Server } from 'node:net';
import { createBroker } from 'aedes';

export interface EmbeddedBroker {
  url: string;
  close(): Promise<void>;
}

export async function startBroker(): Promise<EmbeddedBroker> {
  const broker = createBroker();
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        broker.close(() => server.close(() => resolve()));
        // Connections left open by a failing test must not keep server.close() waiting.
        server.unref();
      }),
  };
}
