import { Logger } from '@nestjs/common';
import {
  AckResponse,
  AlertEvent,
  ClientToServerEvents,
  GatewayStatus,
  LIVE_NAMESPACE,
  Reading,
  ServerToClientEvents,
  SubscribeAck,
} from '@pulse/protocol';
import { createServer, Server as HttpServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { io as connect, Socket } from 'socket.io-client';
import { parseAlertRules } from '../alerts/alert-rules.loader';
import { AlertsService } from '../alerts/alerts.service';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { HistoryService } from '../history/history.service';
import { createAuthHarness } from '../auth/testing/auth.harness';
import { ClientAddress } from '../common/client-address';
import { EntryGuard } from '../security/entry-guard.service';
import { SecurityCounters } from '../security/security-counters.service';
import { LagMonitor } from './lag-monitor';
import { LiveEmitter } from './live-emitter';
import { LiveHubService } from './live-hub.service';
import { createLiveIoServer } from './live-io.server';
import { LiveSubscriptionService } from './live-subscription.service';
import { LiveGateway } from './live.gateway';
import { PeerAcks } from './peer-acks';
import { LocalReadingsFanOut } from './readings-fan-out';

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

// Real: the whole live layer (emitter, lag monitor, local fan-out, hub, subscriptions), the alerts
// service with its engine, registry and history, on an HTTP server on port 0, with
// socket.io-client over websocket. Only the broker side is absent: readings are published to the
// hub as the ingest would.
describe('LiveGateway', () => {
  const config = { FLUSH_MS: 20, HISTORY_WINDOW_MS: 3_600_000 };
  let registry: DeviceRegistryService;
  let history: HistoryService;
  let emitter: LiveEmitter;
  let lag: LagMonitor;
  let hub: LiveHubService;
  let alerts: AlertsService;
  let sut: LiveGateway;
  let authParts: ReturnType<typeof createAuthHarness>;
  let http: HttpServer;
  let url: string;
  const clients: Client[] = [];

  beforeEach(async () => {
    jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    registry = new DeviceRegistryService({ MAX_DEVICES: 10 });
    history = new HistoryService({ HISTORY_WINDOW_MS: 3_600_000, HISTORY_MAX_POINTS: 1000 });
    emitter = new LiveEmitter(config);
    lag = new LagMonitor(emitter);
    hub = new LiveHubService(config, new LocalReadingsFanOut(emitter, lag), emitter);
    const rules = parseAlertRules(
      'rules: [{id: hot, kind: threshold, metric: t, op: above, value: 30, severity: major}]',
      'yaml',
    );
    alerts = new AlertsService({ ALERT_RULES_FILE: undefined }, rules, registry, hub);
    const subscriptions = new LiveSubscriptionService(config, registry, history);
    const entry = new EntryGuard(
      {
        ALLOWED_ORIGINS: undefined,
        HOST: '127.0.0.1',
        TRUST_PROXY: [],
        PORT: 0,
        LIVE_MAX_CONNECTIONS: 100,
        LIVE_MAX_CONNECTIONS_PER_IP: 100,
        CONNECTION_CAP_EXEMPT: [],
      },
      new SecurityCounters(),
      new ClientAddress([]),
    );
    authParts = createAuthHarness();
    sut = new LiveGateway(
      emitter,
      lag,
      subscriptions,
      hub,
      alerts,
      entry,
      authParts.liveAuth,
      new PeerAcks(alerts, registry, emitter),
    );
    http = createServer();
    // What Nest does with the gateway: LiveIoAdapter's server, afterInit, then each connection.
    const nsp = createLiveIoServer(http, entry.allowSocketRequest).of(LIVE_NAMESPACE);
    sut.afterInit(nsp);
    nsp.on('connection', (socket) => sut.handleConnection(socket));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}${LIVE_NAMESPACE}`;
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await sut.stop(); // closes Socket.IO and the HTTP server
    authParts.close();
    jest.restoreAllMocks();
  });

  /** A connected client; `setup` runs before it connects (to catch what comes on connect). */
  async function open(setup?: (client: Client) => void): Promise<Client> {
    const client: Client = connect(url, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
    });
    clients.push(client);
    setup?.(client);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', resolve);
      client.once('connect_error', reject);
    });
    return client;
  }

  /** The server side of a client (its id is the socket's on the namespace). */
  const serverSocket = (client: Client) => {
    for (const socket of emitter.sockets()) if (socket.id === client.id) return socket;
    throw new Error(`no server socket ${client.id}`);
  };

  const publish = (deviceId: string, ts: number, t: number): Reading => {
    const reading = { deviceId, ts, values: { t } };
    registry.applyReadings(deviceId, [reading], ts);
    history.record(deviceId, [reading]);
    hub.publishReadings(deviceId, undefined, [reading]);
    return reading;
  };

  const subscribe = (client: Client, request: object): Promise<SubscribeAck> =>
    client.timeout(5000).emitWithAck('subscribe', request as never);

  const next = <T>(client: Client, event: 'readings' | 'lagged'): Promise<T> =>
    new Promise((resolve) => client.once(event, resolve as never));

  it('greets a new client with the broker status last published, then the active alerts', async () => {
    const before = Date.now();
    hub.publishGateway({ broker: 'connected', serverTime: 1, flushMs: config.FLUSH_MS });
    alerts.onReadings([{ deviceId: 'd1', ts: before, values: { t: 31 } }]);
    const greeting: { gateway?: GatewayStatus; alerts?: AlertEvent[] } = {};
    const client = await open((c) => {
      c.on('gateway', (status) => (greeting.gateway = status));
      c.on('alerts', (active) => (greeting.alerts = active));
    });
    await subscribe(client, { history: false }); // answered after the greeting
    expect(greeting.gateway).toEqual({
      broker: 'connected',
      serverTime: expect.any(Number),
      flushMs: 20,
    });
    expect(greeting.gateway?.serverTime).toBeGreaterThanOrEqual(before);
    expect(greeting.alerts).toEqual([expect.objectContaining({ deviceId: 'd1', ruleId: 'hot' })]);
  });

  it('acknowledges a subscribe with history, then sends the live readings', async () => {
    const t0 = Date.now() - 10_000;
    publish('d1', t0, 1);
    const client = await open();
    const ack = await subscribe(client, { devices: ['d1'] });
    expect(ack).toMatchObject({ ok: true, rooms: ['device:d1'] });
    expect(ack.ok && ack.history.map((s) => s.v)).toEqual([[1]]);
    const arrived = next<Reading[]>(client, 'readings');
    const reading = publish('d1', t0 + 1, 2);
    expect(await arrived).toEqual([reading]);
  });

  it('sends no readings to a socket paused for lagging until it re-subscribes', async () => {
    const slow = await open();
    const healthy = await open();
    for (const client of [slow, healthy])
      await subscribe(client, { devices: ['d1'], history: false });
    const got: Reading[] = [];
    slow.on('readings', (batch) => got.push(...batch));
    const told = next<{ since: number }>(slow, 'lagged');
    lag.pause(serverSocket(slow));
    expect(await told).toEqual({ since: expect.any(Number) });
    const first = next<Reading[]>(healthy, 'readings');
    publish('d1', 1000, 1);
    await first;
    const ack = await subscribe(slow, { devices: ['d1'], since: 0 });
    expect(ack.ok && ack.history[0].v).toEqual([1]); // the refill covers what it missed
    const second = next<Reading[]>(slow, 'readings');
    const resumed = publish('d1', 2000, 2);
    await second;
    expect(got).toEqual([resumed]);
  });

  it('answers `ack` for the alerts service, and a bad one with the schema issues', async () => {
    const token = await authParts.tokenFor('ann', 'operator');
    const client = await open((c) => (c.auth = { token }));
    const ack = (request: unknown): Promise<AckResponse> =>
      client.timeout(5000).emitWithAck('ack', request as never);
    expect(await ack({ id: 'al-nope', by: 'ann' })).toMatchObject({
      ok: false,
      error: 'not_found',
    });
    expect(await ack({ id: 42 })).toMatchObject({ ok: false, error: 'invalid' });
  });

  it('refuses `ack` to an anonymous viewer before the alerts service sees it', async () => {
    const client = await open();
    const response = await client.timeout(5000).emitWithAck('ack', { id: 'al-nope' });
    expect(response).toMatchObject({ ok: false, error: 'unauthorized' });
    expect(authParts.counters.stats().refused.live_unauthorized).toBe(1);
  });

  it('counts clients and disconnects by reason', async () => {
    const client = await open();
    expect(sut.stats().clients).toBe(1);
    const gone = new Promise((resolve) => serverSocket(client).once('disconnect', resolve));
    client.disconnect();
    await gone;
    expect(sut.stats()).toMatchObject({
      clients: 0,
      disconnects: { 'client namespace disconnect': 1 },
    });
  });

  it('forgets a signed-in socket once as it goes, and keeps nothing of its handshake but address and time issued', async () => {
    const token = await authParts.tokenFor('ann', 'operator');
    const client = await open((c) => (c.auth = { token }));
    const socket = serverSocket(client);
    const principal = socket.data.principal;
    const tokenId = principal?.kind === 'user' ? principal.tokenId : 'not a user';
    const sessions = authParts.auth.sessions;
    expect(sessions.socketsOf(tokenId)).toEqual([socket]);
    expect(socket.handshake).toMatchObject({ headers: {}, query: {}, auth: {}, time: '' });
    expect(socket.handshake.address).toBe('127.0.0.1');
    expect(typeof socket.handshake.issued).toBe('number');
    const gone: string[] = [];
    sessions.onGone((id) => gone.push(id));
    const left = new Promise((resolve) => socket.once('disconnect', resolve));
    client.disconnect();
    await left;
    expect(sessions.socketsOf(tokenId)).toEqual([]);
    expect(gone).toEqual([tokenId]);
  });
});
