import type { IngestStats, Reading } from '@pulse/protocol';
import {
  Backend,
  closeLive,
  collectReadings,
  connectLive,
  connectMqtt,
  endMqtt,
  freePort,
  getJson,
  LiveClient,
  Mosquitto,
  publishTelemetry,
  RedisServer,
  sleep,
  startBuiltBackend,
  startMosquitto,
  startRedis,
  subscribe,
  waitFor,
} from '@pulse/test-support';
import type { MqttClient } from 'mqtt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DEVICE = 'roll-1';

// Real, natively on loopback: redis-server, mosquitto and two built gateways sharing telemetry
// through `$share/pulse/…` with persistent MQTT sessions (decision 0029, session 9 addendum).
// A rolling restart: gw-a stops cleanly (SIGTERM) and starts again with the same client id.
describe('a rolling restart of one of two gateways delays no reading', () => {
  let redis: RedisServer;
  let mosquitto: Mosquitto;
  let device: MqttClient;
  let dir: string;
  let screen: LiveClient;
  const started: Backend[] = [];
  let ts = Date.now() - 60_000;

  const start = async (id: string) => {
    const gateway = await startBuiltBackend(
      { http: await freePort(), mqtt: await freePort() },
      {
        GATEWAY_ID: id,
        DATA_DIR: dir,
        REDIS_URL: redis.url,
        MQTT_URL: mosquitto.url,
        MQTT_CLIENT_ID: `pulse-${id}`,
        SIMULATOR: 'off',
      },
    );
    started.push(gateway);
    return gateway;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-rolling-'));
    [redis, mosquitto] = await Promise.all([startRedis(), startMosquitto()]);
    for (const id of ['gw-a', 'gw-b']) await start(id);
    device = await connectMqtt(mosquitto.url);
    screen = await connectLive(started[1].httpUrl, ['websocket']);
    expect(await subscribe(screen, { devices: [DEVICE], history: false })).toMatchObject({
      ok: true,
    });
  }, 60_000);

  afterAll(async () => {
    if (screen) await closeLive(screen);
    if (device) await endMqtt(device);
    await Promise.all(started.map((gateway) => gateway.kill()));
    await Promise.all([mosquitto?.stop(), redis?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const accepted = async (gateway: Backend) =>
    (await getJson<IngestStats>(`${gateway.httpUrl}/api/stats`)).body.readings.accepted;

  /** Publish `count` readings of DEVICE; their unique ts values. */
  async function stream(count: number): Promise<number[]> {
    const sent: number[] = [];
    for (let i = 0; i < count; i++) {
      ts += 1;
      sent.push(ts);
      await publishTelemetry(device, DEVICE, { ts, values: { t: i } });
      if (i % 10 === 9) await sleep(5);
    }
    return sent;
  }

  /** Until the screen on gw-b has every one of `sent`, within `timeoutMs`. */
  const arrived = (got: Reading[], sent: number[], timeoutMs: number) =>
    waitFor(() => sent.every((t) => got.some((r) => r.ts === t)) || null, {
      timeoutMs,
      message: `${sent.length} readings on the screen`,
    });

  it('while gw-a is stopped its share goes to gw-b at once, and once back it takes its share again', async () => {
    const [a, b] = started;
    const got = collectReadings(screen).readings;
    // Both ingest while both run.
    const before = await Promise.all([accepted(a), accepted(b)]);
    await arrived(got, await stream(40), 5000);
    expect(await accepted(a)).toBeGreaterThan(before[0]);

    // A clean stop unsubscribes gw-a's share before it leaves: nothing waits in its session for
    // a drain or its return (a lease, 3 s, would show as a late arrival).
    await a.stop();
    const whileStopped = await stream(60);
    await arrived(got, whileStopped, 1500);

    // Back with the same MQTT client id: its session is resumed and its share subscribed again,
    // once it knows what gw-b's screens watch (it holds its ingest back until then), so the
    // first reading it takes reaches the screen on gw-b.
    const back = await start('gw-a');
    expect(
      (await getJson<IngestStats>(`${back.httpUrl}/api/stats`)).body.live.crossGateway?.peers,
    ).toBe(1);
    // Mosquitto hands a burst to one member at a time: publish until gw-a has taken some.
    const acceptedBack = await accepted(back);
    const afterBack: number[] = [];
    await waitFor(
      async () => {
        afterBack.push(...(await stream(20)));
        return (await accepted(back)) > acceptedBack || null;
      },
      { timeoutMs: 10_000, intervalMs: 200, message: 'gw-a to take its share again' },
    );
    await arrived(got, afterBack, 5000);
    // A clean stop left nothing to drain: gw-b did not take gw-a's client id from it.
    const drained = (await getJson<IngestStats>(`${b.httpUrl}/api/stats`)).body.broker.drained;
    expect(drained?.sessions ?? 0).toBe(0);
    const seen = got.map((r) => r.ts);
    expect(new Set(seen).size).toBe(seen.length); // none twice
  }, 60_000);
});
