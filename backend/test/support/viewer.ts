/**
 * A dashboard viewer for integration specs: a `/live` client subscribed to some devices,
 * collecting the readings it receives. Owns that one client; never reaches into the server.
 */
import {
  closeLive,
  collectReadings,
  CollectedReadings,
  connectLive,
  subscribe,
  Transport,
} from '@pulse/test-support';

export interface Viewer {
  received: CollectedReadings;
  close(): Promise<void>;
}

/** Connect over `transport`, subscribe to `devices`, collect readings from then on. */
export async function watchDevices(
  httpUrl: string,
  devices: string[],
  transport: Transport = 'websocket',
  options: Parameters<typeof connectLive>[3] = {},
): Promise<Viewer> {
  const socket = await connectLive(httpUrl, [transport], undefined, options);
  await subscribe(socket, { devices });
  return { received: collectReadings(socket), close: () => closeLive(socket) };
}
