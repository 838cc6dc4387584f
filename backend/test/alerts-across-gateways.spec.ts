import type {
  AckResponse,
  ActiveAlertsResponse,
  AlertEvent,
  AlertHistoryResponse,
} from '@pulse/protocol';
import {
  Backend,
  closeLive,
  collectAlerts,
  connectLive,
  connectMqtt,
  E2E_ADMIN_PASSWORD,
  endMqtt,
  freePort,
  getJson,
  Mosquitto,
  PostgresCluster,
  publishTelemetry,
  RedisServer,
  sendJson,
  sleep,
  startBuiltBackend,
  startMosquitto,
  startPostgres,
  startRedis,
  waitFor,
} from '@pulse/test-support';
import type { MqttClient } from 'mqtt';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HELD_ALERTS_RESEND_MS } from '../src/app/live/peer-alerts';
import { ownerOf } from '../src/app/ownership/rendezvous';
import { settled } from './support/ownership';
import { tokenFor } from './support/pulse';

const RULES_YAML = `rules:
  - id: hot
    kind: threshold
    metric: t
    op: above
    value: 1000
    severity: major
`;

const MEMBERS = ['gw-a', 'gw-b'];
/** Devices gw-a owns while both run (and, alone, owns everything). */
const [HELD_BY_A, RAISED_WHILE_B_IS_DOWN, REMOVED_ON_B, CLEARED_WHILE_REDIS_IS_DOWN] = Array.from(
  { length: 100 },
  (_, i) => `boiler-${i}`,
)
  .filter((id) => ownerOf(id, MEMBERS) === 'gw-a')
  .slice(0, 4);

// Real, natively on loopback, as docker-compose.yml runs it: PostgreSQL (one database for both
// gateways), redis-server, mosquitto and two built gateways sharing telemetry through
// `$share/pulse/…` and alerts through Redis. Every alert here belongs to a device gw-a owns, so
// only gw-a's engine holds it: gw-b knows it from gw-a's events and the shared store.
describe('alerts across two gateways: an ack over HTTP on either, and a restarted gateway lists its peer’s open alerts', () => {
  let postgres: PostgresCluster;
  let databaseUrl: string;
  let redis: RedisServer;
  let mosquitto: Mosquitto;
  let device: MqttClient;
  let dir: string;
  const started: Backend[] = [];
  let a: Backend;
  let b: Backend;

  const start = async (id: string) => {
    const backend = await startBuiltBackend(
      { http: await freePort(), mqtt: await freePort() },
      {
        GATEWAY_ID: id,
        DATA_DIR: dir,
        DATABASE_URL: databaseUrl,
        REDIS_URL: redis.url,
        MQTT_URL: mosquitto.url,
        MQTT_CLIENT_ID: `pulse-${id}`,
        SIMULATOR: 'off',
        ALERT_RULES_FILE: join(dir, 'rules.yaml'),
      },
    );
    started.push(backend);
    return backend;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-alerts-across-'));
    writeFileSync(join(dir, 'rules.yaml'), RULES_YAML);
    [postgres, redis, mosquitto] = await Promise.all([
      startPostgres(),
      startRedis(),
      startMosquitto(),
    ]);
    databaseUrl = postgres.createDatabase('pulse_alerts_across');
    // Together: migrations of the shared database wait for each other (an advisory lock).
    [a, b] = await Promise.all(MEMBERS.map(start));
    device = await connectMqtt(mosquitto.url);
  }, 90_000);

  afterAll(async () => {
    if (device) await endMqtt(device);
    await Promise.all(started.map((backend) => backend.kill()));
    await Promise.all([mosquitto?.stop(), redis?.stop(), postgres?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const activeOn = async (gateway: Backend): Promise<AlertEvent[]> =>
    (await getJson<ActiveAlertsResponse>(`${gateway.httpUrl}/api/alerts`)).body.alerts;

  /** Until `gateway`'s `GET /api/alerts` lists an alert of `deviceId` that `match` accepts. */
  const listed = (gateway: Backend, deviceId: string, match: (alert: AlertEvent) => boolean) =>
    waitFor(
      async () => (await activeOn(gateway)).find((e) => e.deviceId === deviceId && match(e)),
      { timeoutMs: 10_000, message: `${deviceId}'s alert listed on ${gateway.httpUrl}` },
    );

  const ack = (gateway: Backend, id: string, headers: Record<string, string>) =>
    sendJson<AckResponse>(
      `${gateway.httpUrl}/api/alerts/${encodeURIComponent(id)}/ack`,
      'POST',
      { note: 'on it' },
      headers,
    );

  it("an operator acknowledges over HTTP on the gateway that does not hold the alert: 200 with the alert, acknowledged on both gateways' lists", async () => {
    await settled([a, b], 2);
    await publishTelemetry(device, HELD_BY_A, { ts: Date.now(), values: { t: 2000 } });
    const raised = await listed(a, HELD_BY_A, (e) => e.state === 'raised');
    await listed(b, HELD_BY_A, (e) => e.id === raised.id);
    const { token } = await tokenFor(b.httpUrl, 'admin', E2E_ADMIN_PASSWORD);
    const operator = { authorization: `Bearer ${token}` };

    // A token scoped to other groups does not find it, on either gateway (the holder checks).
    const scoped = await tokenFor(b.httpUrl, 'admin', E2E_ADMIN_PASSWORD, { groups: ['other'] });
    for (const gateway of [a, b])
      expect(
        await ack(gateway, raised.id, { authorization: `Bearer ${scoped.token}` }),
      ).toMatchObject({ status: 404, body: { ok: false, error: 'not_found' } });

    const answer = await ack(b, raised.id, operator);
    expect(answer).toMatchObject({
      status: 200,
      body: {
        ok: true,
        alert: { id: raised.id, state: 'acknowledged', acknowledgedBy: 'admin', ackNote: 'on it' },
      },
    });
    for (const gateway of [a, b])
      await listed(gateway, HELD_BY_A, (e) => e.id === raised.id && e.acknowledgedBy === 'admin');
    // Asked again, the holder's answer comes back as it would on the holder itself.
    for (const gateway of [b, a])
      expect(await ack(gateway, raised.id, operator)).toMatchObject({
        status: 409,
        body: { ok: false, error: 'already_acknowledged' },
      });
    // An alert no gateway holds: 404 from every one.
    expect(await ack(b, 'no-such-alert', operator)).toMatchObject({
      status: 404,
      body: { ok: false, error: 'not_found' },
    });
  }, 60_000);

  it('a gateway restarted while its peer holds open alerts lists them as soon as it answers, and still once the devices are shared out again', async () => {
    // Acknowledged by the first case (when it passed): either way gw-a holds it open.
    const held = (await activeOn(a)).find((e) => e.deviceId === HELD_BY_A) as AlertEvent;
    expect(held).toBeDefined();
    await b.stop();
    await settled([a], 1);
    // Raised while gw-b is down: gw-b never saw an event of it.
    await publishTelemetry(device, RAISED_WHILE_B_IS_DOWN, {
      ts: Date.now(),
      values: { t: 3000 },
    });
    const unseen = await listed(a, RAISED_WHILE_B_IS_DOWN, (e) => e.state === 'raised');

    b = await start('gw-b');
    const expected = [
      { id: held.id, state: held.state, acknowledgedBy: held.acknowledgedBy },
      { id: unseen.id, state: 'raised' },
    ];
    const listOnB = async () =>
      (await activeOn(b))
        .filter((e) => e.id === held.id || e.id === unseen.id)
        .sort((x, y) => (x.id === held.id ? -1 : y.id === held.id ? 1 : 0));
    // Right away, before any of them changes.
    expect(await listOnB()).toMatchObject(expected);
    // And once both gateways have shared the devices out (gw-b lets go of what it restored of
    // the devices gw-a owns).
    await settled([a, b], 2);
    expect(await listOnB()).toMatchObject(expected);
    expect(await listOnB()).toHaveLength(2);
  }, 60_000);

  it("an alert that changes while Redis cannot be reached reaches the peer's list in its newest state once Redis is back (held, not queued)", async () => {
    await settled([a, b], 2);
    const device_ = CLEARED_WHILE_REDIS_IS_DOWN;
    await publishTelemetry(device, device_, { ts: Date.now(), values: { t: 5000 } });
    const raised = await listed(a, device_, (e) => e.state === 'raised');
    await listed(b, device_, (e) => e.id === raised.id);
    const { token } = await tokenFor(a.httpUrl, 'admin', E2E_ADMIN_PASSWORD);
    const peerAlertsOf = async (gateway: Backend) =>
      (
        await getJson<{ live: { peerAlerts?: { held?: number; unsent?: number } } }>(
          `${gateway.httpUrl}/api/stats`,
        )
      ).body.live.peerAlerts;

    await redis.stop();
    // Mosquitto hands gw-a, the owner, its share of the readings: it clears the alert…
    let at = Date.now();
    await waitFor(
      async () => {
        for (let i = 0; i < 10; i++) {
          at += 20;
          await publishTelemetry(device, device_, { ts: at, values: { t: 20 } });
          await sleep(20);
        }
        return (
          (await activeOn(a)).some((e) => e.id === raised.id && e.state === 'cleared') || undefined
        );
      },
      { timeoutMs: 10_000, intervalMs: 0, message: `${device_}'s alert cleared on gw-a` },
    );
    // …and an operator on gw-a acknowledges it: it ends, and leaves gw-a's list.
    expect(await ack(a, raised.id, { authorization: `Bearer ${token}` })).toMatchObject({
      status: 200,
    });
    expect((await activeOn(a)).some((e) => e.id === raised.id)).toBe(false);
    // gw-b could not be told: it still lists the alert raised; gw-a holds its newest event.
    expect((await activeOn(b)).find((e) => e.id === raised.id)).toMatchObject({ state: 'raised' });
    expect(await peerAlertsOf(a)).toMatchObject({ held: 1, unsent: 0 });
    // A screen on gw-b, watching from before Redis is back.
    const screen = await connectLive(b.httpUrl, ['websocket']);
    const seen = collectAlerts(screen);

    try {
      redis = await startRedis({ port: redis.port });
      await waitFor(async () => !(await activeOn(b)).some((e) => e.id === raised.id) || undefined, {
        timeoutMs: 15_000,
        message: `${device_}'s alert off gw-b's list once Redis is back`,
      });
      expect(await peerAlertsOf(a)).toMatchObject({ held: 0, unsent: 0 });
      // gw-a sends its held event once more 3 s later (gw-b's subscriber may be back after its
      // publisher): the screen is told the alert ended once, whether gw-b heard one sending or
      // both (then the second is counted a repeat; live-emitter.peer-repeats.spec makes sure).
      await sleep(HELD_ALERTS_RESEND_MS + 1000);
      const events = seen.events.filter((e) => e.id === raised.id);
      expect(events).toEqual([expect.objectContaining({ state: 'cleared', active: false })]);
    } finally {
      await closeLive(screen);
    }
  }, 60_000);

  // Right after the Redis restart above, two ways the owner's open alert stayed for ever: the
  // reading reached the owner's engine forwarded by gw-b before gw-a knew the device (the removal
  // found nothing to remove there), or gw-a's subscriber was not back yet when the removal went
  // out (removals are now sent once more 3 s later).
  it('an admin removes a device on the gateway that does not own it: gone from both, its open alert ended "device removed" by the owner', async () => {
    await settled([a, b], 2);
    await publishTelemetry(device, REMOVED_ON_B, { ts: Date.now(), values: { t: 4000 } });
    const raised = await listed(a, REMOVED_ON_B, (e) => e.state === 'raised');
    await listed(b, REMOVED_ON_B, (e) => e.id === raised.id);
    const knownOn = async (gateway: Backend) =>
      (await getJson(`${gateway.httpUrl}/api/devices/${REMOVED_ON_B}`)).status === 200;
    // gw-b knows it from the ingest or gw-a's share of the summary (within a second).
    await waitFor(() => knownOn(b), { message: `${REMOVED_ON_B} known on gw-b` });
    const { token } = await tokenFor(b.httpUrl, 'admin', E2E_ADMIN_PASSWORD);
    const removal = await sendJson(
      `${b.httpUrl}/api/devices/${REMOVED_ON_B}`,
      'DELETE',
      undefined,
      {
        authorization: `Bearer ${token}`,
      },
    );
    expect(removal.status).toBe(204);
    for (const gateway of [a, b]) {
      await waitFor(async () => !(await knownOn(gateway)), {
        timeoutMs: 5_000,
        message: `${REMOVED_ON_B} removed on ${gateway.httpUrl}`,
      });
      await waitFor(
        async () => !(await activeOn(gateway)).some((e) => e.deviceId === REMOVED_ON_B),
        { timeoutMs: 5_000, message: `${REMOVED_ON_B}'s alert off ${gateway.httpUrl}'s list` },
      );
    }
    const history = await getJson<AlertHistoryResponse>(
      `${a.httpUrl}/api/alerts/history?deviceId=${REMOVED_ON_B}`,
    );
    expect(history.body.events[0]).toMatchObject({
      id: raised.id,
      state: 'cleared',
      message: expect.stringContaining('(device removed)'),
    });
  }, 60_000);
});
