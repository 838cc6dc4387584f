/**
 * An in-process Aedes broker on a free loopback port, for tests that need a real MQTT broker
 * without a Pulse backend around it (the simulator's). Owns that broker and its TCP server only.
 * Aedes 2 (MQTT 3.1.1 and 5), the embedded broker's own (docs/decisions/0026-mqtt5-embedded-broker.md).
 */
import { AddressInfo, createServer, Server } from 'node:net';

export interface EmbeddedBroker {
  url: string;
  close(): Promise<void>;
}

export async function startBroker(): Promise<EmbeddedBroker> {
  // Loaded when used: Aedes 2 is ESM-only, and most importers of this library never need it.
  const { Aedes } = await import('aedes');
  const broker = await Aedes.createBroker();
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
