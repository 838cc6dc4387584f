import { createServer, Server } from 'node:net';
import { AddressInfo } from 'node:net';
import { createBroker } from 'aedes';
import { connectAsync, IClientPublishOptions, MqttClient } from 'mqtt';

/** An in-process Aedes broker on a free loopback port. */
export async function startBroker(): Promise<{ url: string; close(): Promise<void> }> {
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

export interface Received {
  topic: string;
  payload: Buffer;
  retain: boolean;
  at: number;
}

/** An mqtt.js client recording every message on `filter`. */
export async function record(
  url: string,
  filter = 'devices/+/+',
): Promise<{ messages: Received[]; client: MqttClient; close(): Promise<void> }> {
  const client = await connectAsync(url, {
    reconnectPeriod: 0,
    clientId: `rec-${Math.random().toString(36).slice(2)}`,
  });
  const messages: Received[] = [];
  client.on('message', (topic, payload, packet) =>
    messages.push({ topic, payload, retain: packet.retain, at: Date.now() }),
  );
  await client.subscribeAsync(filter, { qos: 1 });
  return { messages, client, close: () => client.endAsync() };
}

export async function waitFor(
  predicate: () => boolean,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export type { IClientPublishOptions };
