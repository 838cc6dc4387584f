import type {
  AckResponse,
  ActiveAlertsResponse,
  AlertEvent,
  FleetSummaryPage,
  IngestStats,
  Reading,
} from '@pulse/protocol';
import { DS } from '@pulse/protocol';
import {
  Backend,
  collectAlerts,
  collectReadings,
  closeLive,
  connectLive,
  connectMqtt,
  E2E_ADMIN_PASSWORD,
  endMqtt,
  freePort,
  getJson,
  LiveClient,
  Mosquitto,
  Nginx,
  publishTelemetry,
  RedisServer,
  sleep,
  startBuiltBackend,
  startMosquitto,
  startNginx,
  startRedis,
  subscribe,
  Transport,
  waitFor,
  WORKSPACE_ROOT,
} from '@pulse/test-support';
import type { MqttClient } from 'mqtt';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tokenFor } from './support/pulse';

const RULES_YAML = `rules:
  - id: hot
    kind: threshold
    metric: t
    op: above
    value: 1000
    severity: major
`;

const REDIS_PASSWORD = 'redis-s3cret-pw';

/** A reading of the stream device; `ts` is unique, so a duplicate or a gap shows by its ts. */
const DEVICE = 'line-1';

// Real, natively on loopback: redis-server, mosquitto, two built gateways (dist/backend, each with
// its own SQLite DATA_DIR: the shared PostgreSQL store is not part of this topology yet) sharing
// telemetry through `$share/pulse/…` and live data through Redis, behind nginx rendered from
// deploy/nginx/pulse.conf. A device publishes with mqtt.js; screens use socket.io-client. One
// topology for every case: the last one kills a gateway.
describe('two gateways behind nginx share one fleet through Redis and Mosquitto', () => {
  let redis: RedisServer;
  let mosquitto: Mosquitto;
  let nginx: Nginx;
  let device: MqttClient;
  let dir: string;
  const gateways: Backend[] = [];
  const sockets: LiveClient[] = [];
  let ts = Date.now() - 60_000;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-scale-'));
    writeFileSync(join(dir, 'rules.yaml'), RULES_YAML);
    writeFileSync(join(dir, 'redis-password'), `${REDIS_PASSWORD}\n`);
    [redis, mosquitto] = await Promise.all([
      startRedis({ password: REDIS_PASSWORD }),
      startMosquitto(),
    ]);
    const env = (id: string, redisAuth: Record<string, string>) => ({
      MQTT_URL: mosquitto.url,
      MQTT_CLIENT_ID: `pulse-${id}`,
      SIMULATOR: 'off',
      ALERT_RULES_FILE: join(dir, 'rules.yaml'),
      LOG_LEVEL: 'log', // every line a gateway prints about Redis, to look for the password
      ...redisAuth,
    });
    const ports = async () => ({ http: await freePort(), mqtt: await freePort() });
    // The password both ways: in the URL (A) and in a file (B).
    const withPassword = redis.url.replace('redis://', `redis://:${REDIS_PASSWORD}@`);
    gateways.push(
      ...(await Promise.all([
        startBuiltBackend(await ports(), env('a', { REDIS_URL: withPassword })),
        startBuiltBackend(
          await ports(),
          env('b', { REDIS_URL: redis.url, REDIS_PASSWORD_FILE: join(dir, 'redis-password') }),
        ),
      ])),
    );
    const port = await freePort();
    nginx = await startNginx(join(WORKSPACE_ROOT, 'deploy/nginx/pulse.conf'), port, {
      PULSE_LISTEN: `127.0.0.1:${port}`,
      PULSE_GATEWAY_A: new URL(gateways[0].httpUrl).host,
      PULSE_GATEWAY_B: new URL(gateways[1].httpUrl).host,
    });
    device = await connectMqtt(mosquitto.url);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(sockets.map((socket) => closeLive(socket)));
    if (device) await endMqtt(device);
    await Promise.all(gateways.map((gateway) => gateway.kill()));
    await Promise.all([nginx?.stop(), mosquitto?.stop(), redis?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const stats = (gateway: Backend) =>
    getJson<IngestStats>(`${gateway.httpUrl}/api/stats`).then((response) => response.body);

  /** A screen through nginx that re-subscribes whenever it (re)connects, as the dashboard does. */
  async function screenThroughNginx(transport: Transport): Promise<LiveClient> {
    const socket = await connectLive(nginx.url, [transport], undefined, {
      reconnection: true,
      reconnectionDelay: 100,
      reconnectionDelayMax: 500,
    });
    sockets.push(socket);
    socket.on('connect', () => void subscribe(socket, { devices: [DEVICE], history: false }));
    expect(await subscribe(socket, { devices: [DEVICE], history: false })).toMatchObject({
      ok: true,
    });
    return socket;
  }

  /** Publish `count` readings of DEVICE, a few ms apart; their unique ts values. */
  async function stream(count: number): Promise<number[]> {
    const sent: number[] = [];
    for (let i = 0; i < count; i++) {
      ts += 1;
      sent.push(ts);
      await publishTelemetry(device, DEVICE, { ts, values: { t: 20 + (i % 5) } });
      if (i % 10 === 9) await sleep(5);
    }
    return sent;
  }

  const timestamps = (readings: Reading[]) => readings.map((reading) => reading.ts);

  /** The gateway nginx sends this machine's screens to (it hashes on the client address). */
  async function frontGateway(): Promise<{ front: Backend; other: Backend }> {
    const counts = await Promise.all(gateways.map(async (g) => (await stats(g)).live.clients));
    const front = counts[0] > 0 ? 0 : 1;
    return { front: gateways[front], other: gateways[1 - front] };
  }

  let ws: LiveClient;
  let polling: LiveClient;

  it('a websocket and a long-polling screen on one gateway get every reading once, whichever gateway ingested it', async () => {
    ws = await screenThroughNginx('websocket');
    polling = await screenThroughNginx('polling');
    const { front, other } = await frontGateway();
    expect((await stats(front)).live.clients).toBe(2);
    // The other gateway hears of the new room over Redis within milliseconds.
    await sleep(300);
    const wsGot = collectReadings(ws);
    const pollingGot = collectReadings(polling);
    const acceptedBefore = await Promise.all(
      gateways.map(async (g) => (await stats(g)).readings.accepted),
    );

    const sent = await stream(200);

    for (const got of [wsGot, pollingGot]) {
      await got.waitForCount(sent.length);
      await sleep(200); // a duplicate would arrive about now
      expect(timestamps(got.readings).sort((x, y) => x - y)).toEqual(sent);
    }
    // Mosquitto split the stream between the gateways: both ingested part of it, once.
    const ingested = await Promise.all(
      gateways.map(async (g, i) => {
        return (await stats(g)).readings.accepted - acceptedBefore[i];
      }),
    );
    expect(ingested[0] + ingested[1]).toBe(sent.length);
    expect(Math.min(...ingested)).toBeGreaterThan(0);
    expect(other).not.toBe(front);
    // What crossed Redis is counted: the other gateway published its part for the front's screens.
    const [otherLive, frontLive] = [(await stats(other)).live, (await stats(front)).live];
    expect(otherLive.crossGateway).toMatchObject({ peers: 1, failures: 0 });
    expect(otherLive.crossGateway?.published).toBeGreaterThan(0);
    expect(frontLive.crossGateway?.received).toBeGreaterThan(0);
    // Each gateway said where its Redis is, without the password.
    for (const gateway of gateways) {
      expect(gateway.output()).toContain('through redis://');
      expect(gateway.output()).not.toContain(REDIS_PASSWORD);
    }
  }, 30_000);

  it('an alert raised on either gateway is acknowledged from the other, and every screen sees it', async () => {
    const [a, b] = gateways;
    const screenOnA = await connectLive(a.httpUrl, ['websocket']);
    sockets.push(screenOnA);
    const alertsOnA = collectAlerts(screenOnA);
    const { token } = await tokenFor(b.httpUrl, 'admin', E2E_ADMIN_PASSWORD);
    const operatorOnB = await connectLive(b.httpUrl, ['websocket'], (socket) => {
      socket.auth = { token };
    });
    sockets.push(operatorOnB);
    const alertsOnB = collectAlerts(operatorOnB);

    // Four hot devices: Mosquitto hands their readings to both gateways, so some alerts are held
    // by A (B's ack is forwarded there) and some by B.
    const hot = ['hot-1', 'hot-2', 'hot-3', 'hot-4'];
    for (const id of hot)
      await publishTelemetry(device, id, { ts: Date.now(), values: { t: 2000 } });
    const raised = await Promise.all(
      hot.map((id) =>
        alertsOnB.waitForEvent((e) => e.deviceId === id && e.state === 'raised', `${id} raised`),
      ),
    );
    for (const alert of raised) {
      const response: AckResponse = await operatorOnB
        .timeout(5000)
        .emitWithAck('ack', { id: alert.id, note: 'on it' });
      expect(response).toMatchObject({ ok: true });
    }
    for (const alert of raised) {
      const acked = await alertsOnA.waitForEvent(
        (e) => e.id === alert.id && e.state === 'acknowledged',
        `${alert.deviceId} acknowledged on A's screen`,
      );
      expect(acked).toMatchObject({ acknowledgedBy: 'admin' });
    }
    // Each raise reached A's screen once, from whichever gateway held it.
    expect(alertsOnA.events.filter((e) => e.state === 'raised')).toHaveLength(hot.length);

    // A screen that connects now, to either gateway, finds all four open in its snapshot,
    // although each gateway's engine holds only the devices it owns.
    for (const gateway of [a, b]) {
      let snapshot: AlertEvent[] | null = null;
      const late = await connectLive(gateway.httpUrl, ['websocket'], (socket) => {
        socket.on('alerts', (alerts) => (snapshot = alerts));
      });
      sockets.push(late);
      const got = await waitFor(() => snapshot, {
        timeoutMs: 5000,
        message: `the alerts snapshot of a screen on ${gateway === a ? 'A' : 'B'}`,
      });
      for (const alert of raised)
        expect(got.find((open) => open.id === alert.id)).toMatchObject({
          deviceId: alert.deviceId,
          acknowledgedBy: 'admin',
        });
      // And so does the REST list.
      const listed = await getJson<ActiveAlertsResponse>(`${gateway.httpUrl}/api/alerts`);
      for (const alert of raised)
        expect(listed.body.alerts.map((open) => open.id)).toContain(alert.id);
    }
  }, 30_000);

  it("every gateway's fleet summary shows each device's latest value, last seen and open alerts, whichever gateway ingested or owns it", async () => {
    // Mosquitto hands each reading to one gateway: the last reading of a device lands on one of
    // them, and each alert is held by the device's owner. An overview on either gateway must
    // still show the newest value and every open alert (here the alert test's four hot devices).
    const ids = ['sum-1', 'sum-2', 'sum-3', 'sum-4', 'sum-5', 'sum-6'];
    const last = new Map<string, number>();
    for (let round = 0; round < 5; round++)
      for (const [i, id] of ids.entries()) {
        const t = 100 * (i + 1) + round;
        last.set(id, t);
        await publishTelemetry(device, id, { ts: Date.now(), values: { t } });
      }
    const hot = ['hot-1', 'hot-2', 'hot-3', 'hot-4'];
    for (const [name, gateway] of [
      ['A', gateways[0]],
      ['B', gateways[1]],
    ] as const) {
      const summaryOf = async () =>
        (await getJson<FleetSummaryPage>(`${gateway.httpUrl}/api/fleet/summary?limit=1000`)).body;
      const seen = (page: FleetSummaryPage, id: string) => {
        const row = page.devices.find((d) => d[DS.id] === id);
        const t = row?.[DS.values][page.metrics.indexOf('t')];
        return { t, age: row?.[DS.age], alert: row?.[DS.alert] };
      };
      const page = await waitFor(
        async () => {
          const page = await summaryOf();
          const current =
            ids.every((id) => seen(page, id).t === last.get(id)) &&
            hot.every((id) => seen(page, id).alert?.[0] === 'major');
          return current ? page : null;
        },
        { timeoutMs: 5000, intervalMs: 200, message: `the fleet summary on ${name} to catch up` },
      ).catch(async (error: Error) => {
        const page = await summaryOf();
        throw new Error(
          `${error.message}: ${JSON.stringify([...ids, ...hot].map((id) => [id, seen(page, id)]))}`,
        );
      });
      for (const id of ids) expect(seen(page, id).age).toBeLessThan(10_000);
      for (const id of hot) expect(seen(page, id).alert).toEqual(['major', 1]);
      // What crossed is counted, and nothing either gateway sent was refused.
      const shared = (await stats(gateway)).live.summary?.shared;
      expect(shared).toMatchObject({ rejected: 0 });
      expect(shared?.published).toBeGreaterThan(0);
      expect(shared?.devices).toBeGreaterThan(0);
    }
  }, 30_000);

  it('when the gateway its screens are on is killed, they reconnect through nginx to the other and get readings again', async () => {
    const { front, other } = await frontGateway();
    const wsGot = collectReadings(ws);
    const pollingGot = collectReadings(polling);
    const streaming = stream(300);
    await sleep(200);
    await front.kill(); // SIGKILL, mid-stream
    gateways.splice(gateways.indexOf(front), 1);
    await streaming;

    await waitFor(async () => (await stats(other)).live.clients >= 2, {
      timeoutMs: 15_000,
      intervalMs: 200,
      message: 'both screens to reconnect to the surviving gateway',
    });
    await sleep(300);
    const after = await stream(100);
    for (const got of [wsGot, pollingGot]) {
      await waitFor(() => after.every((t) => got.readings.some((r) => r.ts === t)) || null, {
        timeoutMs: 10_000,
        message: 'the readings published after the reconnect',
      });
      const seen = timestamps(got.readings);
      expect(new Set(seen).size).toBe(seen.length); // none twice
    }
  }, 45_000);
});
