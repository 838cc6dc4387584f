import { LIVE_NAMESPACE, Reading } from '@pulse/protocol';
import { createServer, Server as HttpServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { io as connect, Socket } from 'socket.io-client';
import { encodeEvent, queuedPackets } from './engine-adapter';
import { LAG_PAUSE_BYTES, LAG_PAUSE_PACKETS, LagGate } from './lag-gate';
import { LiveEmitter } from './live-emitter';
import { createLiveIoServer, type LiveSocket } from './live-io.server';

// Real: the emitter's Socket.IO server on an HTTP server on port 0 and socket.io-client over
// long-polling, stalled the way a client that stops polling is (engine.io-client's pause).

/** engine.io-client's polling transport: pause() waits for the poll in flight, then polls no more. */
interface PollingTransport {
  name: string;
  pause(onPause: () => void): void;
}

const ROOM = 'device:d1';
const batch: Reading[] = [{ deviceId: 'd1', ts: 1, values: { t: 21.5 } }];
const encoded = encodeEvent(LIVE_NAMESPACE, 'readings', batch);
const open: LagGate = { isPaused: () => false, limitBytes: () => LAG_PAUSE_BYTES };

describe('LiveEmitter writing readings', () => {
  let http: HttpServer;
  let emitter: LiveEmitter;
  let client: Socket;
  let socket: LiveSocket;

  beforeEach(async () => {
    http = createServer();
    emitter = new LiveEmitter({ FLUSH_MS: 20 });
    const nsp = createLiveIoServer(http).of(LIVE_NAMESPACE);
    emitter.bind(nsp);
    const joined = new Promise<LiveSocket>((resolve) =>
      nsp.on('connection', (s) => {
        void s.join(ROOM);
        resolve(s);
      }),
    );
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}${LIVE_NAMESPACE}`;
    client = connect(url, { transports: ['polling'], forceNew: true, reconnection: false });
    socket = await joined;
  });

  afterEach(async () => {
    // Its transport may be paused (the test stalls it): socket.io's DISCONNECT would then wait in
    // engine.io's write buffer for a drain that never comes, and the client's ping timer with it
    // (Jest waited ~45 s to exit). The engine closes at once while nothing is queued to write.
    client.io.engine.close();
    client.close();
    await emitter.close();
  });

  it('bounds engine.io’s queue like the direct path: a socket that stopped polling is a laggard at LAG_PAUSE_PACKETS', async () => {
    const transport = client.io.engine.transport as unknown as PollingTransport;
    expect(transport.name).toBe('polling');
    await new Promise<void>((resolve) => transport.pause(resolve));

    const laggards: LiveSocket[] = [];
    let writes = 0;
    for (let i = 0; i < LAG_PAUSE_PACKETS * 2 && laggards.length === 0; i++) {
      emitter.writeReadings(ROOM, [], encoded, open, laggards);
      writes++;
    }
    // Handed to the lag monitor as soon as its queue reached the bound, not a check later…
    expect(laggards).toEqual([socket]);
    expect(writes).toBeLessThanOrEqual(LAG_PAUSE_PACKETS + 1);
    // …and nothing more queued for it.
    expect(queuedPackets(socket)).toBeLessThanOrEqual(LAG_PAUSE_PACKETS + 1);
    expect(emitter.writeStats().engine).toBe(writes - 1);
  });
});
