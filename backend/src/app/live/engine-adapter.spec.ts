import { LIVE_NAMESPACE, Reading } from '@pulse/protocol';
import { existsSync, readFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { createServer, IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import { AddressInfo, Socket as TcpSocket } from 'node:net';
import { dirname, join } from 'node:path';
import { Server } from 'socket.io';
import { io as connect, Socket as ClientSocket } from 'socket.io-client';
import * as ws from 'ws';
import {
  ENGINE_VERSIONS,
  directWire,
  encodeEvent,
  eventOfFrame,
  holdHeartbeat,
  labelAcks,
  queuedBytes,
  queuedPackets,
  releaseHandshake,
  releaseUpgradeRequests,
  textFrame,
  unansweredPing,
  writeAck,
  writeToEngine,
} from './engine-adapter';
import {
  createLiveIoServer,
  LIVE_IO_OPTIONS,
  LiveNamespace,
  LiveServer,
  LiveSocket,
} from './live-io.server';

// Real: a Socket.IO server with Pulse's options and socket.io-client over both transports. This
// spec pins what engine-adapter.ts reads inside engine.io, ws and socket.io: when a version moves,
// a test here fails naming the internal to check again.

/** The version of `name` as `fromDir` loads it (engine.io's own `ws`, not the workspace's). */
function installed(name: string, fromDir: string): { version: string; dir: string } {
  let dir = dirname(require.resolve(name, { paths: [fromDir] }));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version: string };
      if (pkg.name === name) return { version: pkg.version, dir };
    }
    if (dirname(dir) === dir) throw new Error(`package.json of ${name} not found from ${fromDir}`);
    dir = dirname(dir);
  }
}
const socketIo = installed('socket.io', __dirname);
const engineIo = installed('engine.io', socketIo.dir);
const wsOfEngine = installed('ws', engineIo.dir);
const INSTALLED: Record<keyof typeof ENGINE_VERSIONS, string> = {
  'engine.io': engineIo.version,
  ws: wsOfEngine.version,
  'socket.io': socketIo.version,
};

/** Fails loudly, naming the internal engine-adapter.ts relies on. */
function internal(name: string, holds: boolean, got?: unknown): void {
  if (holds) return;
  throw new Error(
    `engine internal changed: ${name} (installed engine.io ${INSTALLED['engine.io']}, ws ${INSTALLED.ws}, ` +
      `socket.io ${INSTALLED['socket.io']}; got ${String(got)}). engine-adapter.ts relies on it: ` +
      'adapt it, then update ENGINE_VERSIONS.',
  );
}

/** What engine.io and ws expose on a connection, as this spec inspects it (the adapter's reads). */
interface RawConn {
  readyState?: unknown;
  writeBuffer?: unknown;
  request?: unknown;
  transport?: { name?: unknown; socket?: { readyState?: unknown; _socket?: unknown } };
  pingTimeoutTimer?: unknown;
  on(event: string, listener: (packet: { type: string }) => void): void;
  once(event: string, listener: () => void): void;
}
const raw = (socket: LiveSocket) => socket.conn as unknown as RawConn;

/** engine.io-client's websocket transport in Node: a `ws` WebSocket over a TCP socket. */
const clientTcp = (client: ClientSocket) =>
  (client.io.engine.transport as unknown as { ws: { _socket: TcpSocket } }).ws._socket;

/**
 * engine.io's stand-in response is what `handleUpgrade` makes first, and its constructor's one
 * TCP listener is a `once('close')`: releaseUpgradeRequests takes off the first `close` listener
 * `handleUpgrade` adds, if it is a `once` wrapper.
 */
function pinStandIn(): void {
  const server = readFileSync(join(engineIo.dir, 'build', 'server.js'), 'utf8');
  internal(
    'engine.io handleUpgrade makes the WebSocketResponse stand-in first',
    /handleUpgrade\(req, socket, upgradeHead\) \{\s*const engineRequest = req;\s*this\.prepare\(engineRequest\);\s*const res = new WebSocketResponse\(engineRequest, socket\);/.test(
      server,
    ),
  );
  const standInClass = server.slice(server.indexOf('class WebSocketResponse'));
  internal(
    'engine.io WebSocketResponse constructor: socket.once("close", ...) its one TCP listener',
    /constructor\(req, socket\) \{[^]*?socket\.once\("close", \(\) => this\.emit\("close"\)\);\s*\}/.test(
      standInClass.slice(0, 1200),
    ),
  );
}

/** A client connected over `transports` to `nsp` at `url`, and its server-side socket. */
async function openClient(
  url: string,
  transports: ('polling' | 'websocket')[],
  clients: ClientSocket[],
  nsp: LiveNamespace,
) {
  const client = connect(`${url}${LIVE_NAMESPACE}`, {
    transports,
    forceNew: true,
    reconnection: false,
  });
  clients.push(client);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('connect_error', reject);
  });
  const socket = nsp.sockets.get(client.id as string);
  if (!socket) throw new Error('no server socket for the client');
  return { client, socket };
}

/** A client connected over `transports` (the last one reached: upgraded if there are two). */
async function openUpgraded(
  url: string,
  transports: ('polling' | 'websocket')[],
  clients: ClientSocket[],
  nsp: LiveNamespace,
) {
  const opened = await openClient(url, transports, clients, nsp);
  const socket = opened.socket;
  // Upgraded once the server has switched (after the client's upgrade packet).
  if (raw(socket).transport?.name !== 'websocket')
    await new Promise<void>((resolve) => raw(socket).once('upgrade', () => resolve()));
  internal('server transport after connecting', raw(socket).transport?.name === 'websocket');
  return opened;
}

/**
 * Cut the client's TCP connection (no goodbye packet) and resolve with the server socket's
 * disconnect reason once the server's TCP socket has closed too.
 */
async function dropConnection(client: ClientSocket, socket: LiveSocket, clients: ClientSocket[]) {
  const tcp = raw(socket).transport?.socket?._socket as TcpSocket;
  internal('ws WebSocket._socket (the TCP socket) on the server', tcp instanceof TcpSocket);
  const tcpClosed = new Promise((resolve) => tcp.once('close', resolve));
  const reason = new Promise((resolve) => socket.once('disconnect', resolve));
  clients.splice(clients.indexOf(client), 1); // gone here, not closed by afterAll
  client.io.reconnection(false);
  clientTcp(client).destroy();
  const why = await reason;
  await tcpClosed;
  await new Promise((resolve) => setImmediate(resolve));
  client.close();
  return why;
}

const batch: Reading[] = [{ deviceId: 'd1', ts: 1, values: { t: 21.5 } }];

/** The two ways a client reaches a websocket, each making engine.io's upgrade stand-in. */
const UPGRADE_PATHS = [
  ['a websocket handshake', ['websocket']],
  ['a polling-to-websocket upgrade', ['polling', 'websocket']],
] as const;

describe('engine adapter (pinned to the installed engine.io, ws, socket.io)', () => {
  let http: HttpServer;
  let io: LiveServer;
  let nsp: LiveNamespace;
  let url: string;
  /** The response object engine.io handed its middlewares, per request. */
  const responses = new Map<IncomingMessage, unknown>();
  const clients: ClientSocket[] = [];

  beforeAll(async () => {
    http = createServer();
    // Pulse's options with a fast heartbeat, so a ping is due within the test.
    io = new Server(http, { ...LIVE_IO_OPTIONS, pingInterval: 100, pingTimeout: 10_000 });
    releaseUpgradeRequests(io);
    io.engine.use((req: IncomingMessage, res: unknown, next: () => void) => {
      responses.set(req, res);
      next();
    });
    nsp = io.of(LIVE_NAMESPACE);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    // Each client until its engine closed: a polling client's goodbye must not outlive the test.
    const closed = clients.map((c) => new Promise((resolve) => c.io.engine.once('close', resolve)));
    for (const client of clients) client.close();
    await Promise.all(closed);
    await new Promise<void>((resolve) => io.close(() => resolve()));
  });

  /** A connected client and its server-side socket. */
  const open = (transport: 'websocket' | 'polling') => openClient(url, [transport], clients, nsp);

  const received = (client: ClientSocket) =>
    new Promise<unknown>((resolve) => client.once('readings', resolve));

  it.each(Object.keys(ENGINE_VERSIONS) as (keyof typeof ENGINE_VERSIONS)[])(
    'runs on the %s version its internals were checked against',
    (name) => {
      internal(
        `${name} version (ENGINE_VERSIONS.${name} = ${ENGINE_VERSIONS[name]})`,
        INSTALLED[name] === ENGINE_VERSIONS[name],
        INSTALLED[name],
      );
      expect(INSTALLED[name]).toBe(ENGINE_VERSIONS[name]);
    },
  );

  it('finds the open websocket, its ws socket and TCP socket where directWire reads them', async () => {
    const { socket } = await open('websocket');
    const conn = raw(socket);
    internal('engine.io Socket.readyState', conn.readyState === 'open', conn.readyState);
    internal('engine.io Socket.writeBuffer (array)', Array.isArray(conn.writeBuffer));
    internal(
      'engine.io Socket.transport.name',
      conn.transport?.name === 'websocket',
      conn.transport?.name,
    );
    const wsSocket = conn.transport?.socket;
    internal('engine.io WebSocket transport.socket (ws)', wsSocket !== undefined);
    internal('ws WebSocket.readyState', wsSocket?.readyState === 1, wsSocket?.readyState);
    internal('ws WebSocket._socket (net.Socket)', wsSocket?._socket instanceof TcpSocket);
    expect(directWire(socket)).toBe(wsSocket?._socket);
    expect([queuedPackets(socket), queuedBytes(socket)]).toEqual([0, 0]);
  });

  it('delivers a pre-encoded frame written straight to the TCP socket as the event', async () => {
    const { client, socket } = await open('websocket');
    const arrived = received(client);
    directWire(socket)?.write(encodeEvent(LIVE_NAMESPACE, 'readings', batch).frame);
    expect(await arrived).toEqual(batch);
  });

  it.each(['websocket', 'polling'] as const)(
    'delivers a pre-encoded packet through socket.io Client.writeToEngine (%s)',
    async (transport) => {
      const { client, socket } = await open(transport);
      const writer = (socket.client as unknown as { writeToEngine?: unknown }).writeToEngine;
      internal('socket.io Client.writeToEngine', typeof writer === 'function', typeof writer);
      if (transport === 'polling') expect(directWire(socket)).toBeNull();
      const arrived = received(client);
      writeToEngine(socket, encodeEvent(LIVE_NAMESPACE, 'readings', batch));
      expect(await arrived).toEqual(batch);
    },
  );

  it.each(['websocket', 'polling'] as const)(
    'answers an acknowledgement with a frame of its own on a websocket, and leaves it to socket.io otherwise (%s)',
    async (transport) => {
      const { client, socket } = await open(transport);
      labelAcks(socket);
      const answer = { ok: true, history: [{ t: [1, 2], v: [3.5, 'é'] }] };
      const written: boolean[] = [];
      // An event outside the live contract's typings: the socket as plain socket.io sees it.
      const plain = socket as unknown as {
        on(
          event: string,
          listener: (request: unknown, callback: (value: unknown) => void) => void,
        ): void;
      };
      plain.on('ask', (_request, callback) => {
        internal(
          'socket.io Socket.ack(id) makes the callback of an event that asks for one',
          typeof (socket as unknown as { ack?: unknown }).ack === 'function',
        );
        const history = Buffer.from(JSON.stringify(answer.history));
        const direct = writeAck(socket, callback, ['[{"ok":true,"history":', history, '}]']);
        written.push(direct);
        if (!direct) callback(answer);
      });
      // Two in a row: each answer reaches its own callback (the ids are socket.io's).
      const [first, second] = await Promise.all([
        client.timeout(5000).emitWithAck('ask', 1),
        client.timeout(5000).emitWithAck('ask', 2),
      ]);
      expect([first, second]).toEqual([answer, answer]);
      expect(written).toEqual(transport === 'websocket' ? [true, true] : [false, false]);
      // A callback socket.io did not make through the labelled `ack` is never written here.
      expect(writeAck(socket, () => undefined, ['[1]'])).toBe(false);
    },
  );

  it('sends a packet queued behind a pending write as its own frame, not the last one encoded', async () => {
    // Issue 12: engine.io keeps the options object of a queued packet and reads
    // `wsPreEncodedFrame` only when it flushes. Two plain emits: the first is being written (the
    // transport is not writable until ws calls back), the second waits in engine.io's buffer.
    const { client, socket } = await open('websocket');
    socket.emit('gateway', { broker: 'connected', serverTime: 1, flushMs: 50 });
    socket.emit('gateway', { broker: 'connected', serverTime: 2, flushMs: 50 });
    internal(
      'engine.io keeps a packet queued behind a pending ws write',
      queuedPackets(socket) > 0,
    );
    expect(directWire(socket)).toBeNull();
    const mine: Reading[] = [{ deviceId: 'room-a', ts: 1, values: { t: 1 } }];
    const theirs: Reading[] = [{ deviceId: 'room-b', ts: 1, values: { t: 2 } }];
    const arrived = received(client);
    writeToEngine(socket, encodeEvent(LIVE_NAMESPACE, 'readings', mine));
    // The next room's batch, encoded in the same tick for other sockets, before this one flushes.
    encodeEvent(LIVE_NAMESPACE, 'readings', theirs);
    expect(await arrived).toEqual(mine);
  });

  it('sees an unanswered ping in pingTimeoutTimer (refreshable), cleared to null by the pong', async () => {
    const { client, socket } = await open('websocket');
    const conn = raw(socket);
    const tcp = clientTcp(client);
    tcp.pause(); // the client reads nothing: the next ping stays unanswered
    await new Promise<void>((resolve) =>
      conn.on('packetCreate', (packet) => packet.type === 'ping' && setImmediate(resolve)),
    );
    const timer = unansweredPing(socket) as { refresh?: unknown } | null;
    internal('engine.io Socket.pingTimeoutTimer while a ping is due', timer !== null, timer);
    internal('pingTimeoutTimer.refresh', typeof timer?.refresh === 'function');
    holdHeartbeat(socket);
    expect(unansweredPing(socket)).toBe(timer); // refreshed in place, not replaced
    const answered = new Promise<void>((resolve) => conn.once('heartbeat', resolve));
    tcp.resume();
    await answered;
    internal(
      'engine.io Socket.pingTimeoutTimer after the pong',
      conn.pingTimeoutTimer === null,
      conn.pingTimeoutTimer,
    );
    expect(unansweredPing(socket)).toBeNull();
  });

  it.each(UPGRADE_PATHS)(
    'releases the first HTTP request and the stand-in response of %s (middlewares installed)',
    async (_what, transports) => {
      pinStandIn();
      const { client, socket } = await openUpgraded(url, [...transports], clients, nsp);
      internal('engine.io Socket.request (released)', raw(socket).request === null);
      const standIns = [...responses.values()].filter((res) => !(res instanceof ServerResponse));
      internal('engine.io upgrade stand-in response passed to engine.use()', standIns.length > 0);
      const standIn = standIns[standIns.length - 1] as EventEmitter;
      let standInClosed = false;
      standIn.on('close', () => (standInClosed = true));
      // The server still sees the connection drop (ws' own `close` listener is in place)...
      expect(await dropConnection(client, socket, clients)).toBe('transport close');
      // ...and the stand-in is no longer told: nothing on the TCP socket refers to it.
      expect(standInClosed).toBe(false);
    },
  );

  it("replaces the handshake's per-socket objects by shared ones, keeping address and issued", async () => {
    const { socket } = await open('websocket');
    const { address, issued } = socket.handshake;
    releaseHandshake(socket);
    expect(socket.handshake).toMatchObject({ address, issued, time: '' });
    const other = (await open('polling')).socket;
    releaseHandshake(other);
    expect(other.handshake.headers).toBe(socket.handshake.headers);
    expect(other.handshake.query).toBe(socket.handshake.query);
    expect(other.handshake.auth).toBe(socket.handshake.auth);
    expect(Object.keys(socket.handshake.auth)).toEqual([]);
  });
});

/** ws' frame builder (not in @types/ws). */
const Sender = (
  ws as unknown as {
    Sender: {
      frame(data: Buffer, options: Record<string, unknown>): Buffer[];
    };
  }
).Sender;

describe("engine adapter on Pulse's own server (no engine.use() middleware)", () => {
  // Without middlewares engine.io upgrades synchronously inside handleUpgrade, so ws adds its own
  // `close` listener in the same call as the stand-in: only the stand-in's may go.
  let http: HttpServer;
  let io: LiveServer;
  let url: string;
  const clients: ClientSocket[] = [];

  beforeAll(async () => {
    http = createServer();
    io = createLiveIoServer(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await new Promise<void>((resolve) => io.close(() => resolve()));
  });

  it.each(UPGRADE_PATHS)(
    'leaves no stand-in listener on the TCP socket of %s, and ws still sees it close',
    async (_what, transports) => {
      pinStandIn();
      const nsp = io.of(LIVE_NAMESPACE);
      const { client, socket } = await openUpgraded(url, [...transports], clients, nsp);
      const tcp = raw(socket).transport?.socket?._socket as TcpSocket;
      const standIn = tcp
        .rawListeners('close')
        .filter((l) =>
          String((l as { listener?: unknown }).listener).includes('this.emit("close")'),
        );
      expect(standIn).toEqual([]);
      expect(await dropConnection(client, socket, clients)).toBe('transport close');
    },
  );
});

describe('engine adapter with permessage-deflate', () => {
  // Off in Pulse (LIVE_IO_OPTIONS); were it turned on, ws would compress asynchronously and a
  // direct write could overtake a frame still in zlib: every write must take engine.io's path.
  it('never writes straight to the TCP socket of a compressed websocket, and still delivers', async () => {
    const http = createServer();
    const io: LiveServer = new Server(http, {
      ...LIVE_IO_OPTIONS,
      perMessageDeflate: { threshold: 0 },
    });
    const nsp = io.of(LIVE_NAMESPACE);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const client = connect(`${url}${LIVE_NAMESPACE}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', resolve);
        client.once('connect_error', reject);
      });
      const socket = nsp.sockets.get(client.id as string);
      if (!socket) throw new Error('no server socket for the client');
      const transport = (socket.conn as unknown as { transport: { perMessageDeflate?: unknown } })
        .transport;
      internal('engine.io WebSocket transport.perMessageDeflate', !!transport.perMessageDeflate);
      expect(directWire(socket)).toBeNull();
      const arrived = new Promise<unknown>((resolve) => client.once('readings', resolve));
      writeToEngine(socket, encodeEvent(LIVE_NAMESPACE, 'readings', batch));
      expect(await arrived).toEqual(batch);
    } finally {
      client.close();
      await new Promise<void>((resolve) => io.close(() => resolve()));
    }
  });
});

describe('textFrame', () => {
  // The frame written straight to websocket clients must be byte-for-byte what `ws` would send.
  it.each([0, 5, 125, 126, 65_535, 65_536, 300_000])(
    'matches ws for a %i-byte payload (all three length encodings)',
    (length) => {
      const text = 'é'.repeat(Math.floor(length / 2)) + 'x'.repeat(length % 2);
      const expected = Buffer.concat(
        Sender.frame(Buffer.from(text), {
          fin: true,
          opcode: 1,
          mask: false,
          readOnly: false,
          rsv1: false,
        }),
      );
      expect(textFrame(text).equals(expected)).toBe(true);
    },
  );
});

describe('eventOfFrame', () => {
  // Another gateway's frame, received over Redis: the same packet for engine.io's path as the one
  // encodeEvent made there, whatever length encoding the frame uses.
  it.each([1, 200, 40_000])('gives back the packet of a %i-reading frame', (count) => {
    const batch: Reading[] = Array.from({ length: count }, (_, i) => ({
      deviceId: 'd-é',
      ts: i,
      values: { t: i / 3 },
    }));
    const sent = encodeEvent(LIVE_NAMESPACE, 'readings', batch);
    const received = eventOfFrame(Buffer.from(sent.frame));
    expect(received.packets).toEqual(sent.packets);
    expect(received.frame.equals(sent.frame)).toBe(true);
    expect(received.options.wsPreEncodedFrame[0]).toBe(received.frame);
  });
});
