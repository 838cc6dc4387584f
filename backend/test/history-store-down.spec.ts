import {
  closeLive,
  collectReadings,
  connectLive,
  connectMqtt,
  endMqtt,
  getJson,
  PostgresCluster,
  postgresAvailable,
  publishTelemetry,
  sendJson,
  startPostgres,
  subscribe,
  waitFor,
} from '@pulse/test-support';
import type { MqttClient } from 'mqtt';
import type { HistoryResponse, IngestStats } from '@pulse/protocol';
import { PulseHandle } from '../src/app/pulse';
import {
  openPgReadPool,
  PG_CONNECT_TIMEOUT_MS,
  PG_READ_TIMEOUT_MS,
} from '../src/app/store/pg-pool';
import { tapLogs } from './support/logs';
import { startTestPulse, TEST_ADMIN_PASSWORD, tokenFor } from './support/pulse';

// Real: the whole backend in this process on a private PostgreSQL cluster (DATABASE_URL), frozen
// (SIGSTOP) as a hung host, then stopped mid-run as an operator's database goes down; plain fetch
// as a viewer on loopback.
(postgresAvailable() ? describe : describe.skip)(
  'history reads and rule changes while PostgreSQL is down',
  () => {
    let cluster: PostgresCluster;
    let pulse: PulseHandle;
    let device: MqttClient;
    /** When the window's one reading was received: from there on, the window alone answers. */
    let receivedAt: number;
    let databaseUrl: string;
    let admin: Record<string, string>;
    const api = (path: string) => `${pulse.httpUrl}/api${path}`;
    const stats = async () => (await getJson<IngestStats>(api('/stats'))).body;

    beforeAll(async () => {
      cluster = await startPostgres();
      databaseUrl = cluster.createDatabase('store_down');
      pulse = await startTestPulse({ DATABASE_URL: databaseUrl });
      device = await connectMqtt(pulse.mqttUrl);
      await publishTelemetry(device, 'press-1', { values: { temperature: 21.5 } });
      const series = await waitFor(
        async () =>
          (await getJson<HistoryResponse>(api('/devices/press-1/history'))).body.series[0],
        { message: 'the reading in the recent window' },
      );
      receivedAt = series.t[0];
      admin = {
        authorization: `Bearer ${(await tokenFor(pulse.httpUrl, 'admin', TEST_ADMIN_PASSWORD)).token}`,
      };
    }, 60_000);

    afterAll(async () => {
      cluster?.resume();
      if (device) await endMqtt(device);
      await pulse?.close();
      await cluster?.stop();
    });

    /** A range from before the gateway started: the store must be read. */
    const dayAgo = () => Date.now() - 86_400_000;

    it('answers 503 within seconds while PostgreSQL hangs, and logs why', async () => {
      try {
        // A database that accepts connections but never answers (a hung or partitioned host): a read
        // waited on the kernel for minutes, holding the request and a pool slot.
        cluster.pause();
        const logs = tapLogs();
        try {
          // A read on the connection the reads above left in the read pool gives up at its query
          // timeout, and the next one (that connection dropped) at its query or handshake timeout.
          const reads = [1, 2].map(async () => {
            const started = Date.now();
            const { status } = await getJson(api(`/devices/press-1/history?from=${dayAgo()}`));
            return { status, fast: Date.now() - started < PG_READ_TIMEOUT_MS + 3000 };
          });
          // A new connection's handshake has the same bound (the read pool's).
          const fresh = openPgReadPool(databaseUrl);
          const started = Date.now();
          await expect(fresh.query('SELECT 1')).rejects.toThrow(/timeout/i);
          expect(Date.now() - started).toBeLessThan(PG_CONNECT_TIMEOUT_MS + 2000);
          await fresh.end();
          expect(await Promise.all(reads)).toEqual([
            { status: 503, fast: true },
            { status: 503, fast: true },
          ]);
        } finally {
          logs.stop();
          cluster.resume();
        }
        expect(logs.text()).toMatch(/history store read failed: .*timeout/i);
        // The store answers again at once: the failed connections were not kept.
        const { status } = await getJson(api(`/devices/press-1/history?from=${dayAgo()}`));
        expect(status).toBe(200);
      } finally {
        // Down from here on, whatever this test found: the next ones read a stopped store.
        cluster.resume(); // a pause that failed half-way must not leave a stopped postmaster
        await cluster.stop();
      }
    }, 30_000);

    it.each([
      ['a device history', () => `/devices/press-1/history?from=${dayAgo()}`],
      [
        'a device history, latest points',
        () => `/devices/press-1/history?from=${dayAgo()}&pick=latest`,
      ],
      [
        'the windows of several devices',
        () => `/history?devices=press-1&from=${Date.now() - 3_000_000}`,
      ],
    ])('answers %s with 503 and the one error body, without the driver text', async (_, path) => {
      const before = await stats();
      const response = await getJson(api(path()));
      expect(response).toEqual({
        status: 503,
        body: {
          statusCode: 503,
          error: 'Service Unavailable',
          message: 'the history store cannot be read right now; try again shortly',
        },
      });
      // Counted (logged with the cause at most once per 10 s: the test above checks the line).
      const after = await stats();
      expect(after.history.store?.reads?.failed).toBe(
        (before.history.store?.reads?.failed ?? 0) + 1,
      );
      expect(JSON.stringify(response.body)).not.toMatch(/ECONNREFUSED|connect|terminat/i);
    });

    it('refuses a subscribe whose history needs the store in words a screen retries on, logged once, and joins nothing', async () => {
      const socket = await connectLive(pulse.httpUrl);
      const watcher = await connectLive(pulse.httpUrl);
      const refused = collectReadings(socket);
      const watched = collectReadings(watcher);
      const logs = tapLogs();
      try {
        for (let i = 0; i < 3; i++)
          expect(await subscribe(socket, { devices: ['press-1'], since: dayAgo() })).toEqual({
            ok: false,
            error: 'the history store cannot be read right now; try again shortly',
          });
        // A screen told "no" is not fed the device's readings all the same: a subscribe refused
        // (the recent window alone answers the watcher's) leaves no room joined.
        expect(await subscribe(watcher, { devices: ['press-1'], history: false })).toMatchObject({
          ok: true,
        });
        await publishTelemetry(device, 'press-1', { values: { temperature: 22.5 } });
        await watched.waitForCount(1);
        await new Promise((resolve) => setTimeout(resolve, 300)); // a flush or two after
        expect(refused.readings).toEqual([]);
      } finally {
        logs.stop();
        await closeLive(socket);
        await closeLive(watcher);
      }
      // The reader's line (at most once per 10 s, the tests above wrote it), no line per subscribe.
      expect(logs.text()).not.toMatch(/subscribe failed/);
    });

    it('refuses an alert rule change it cannot store with 503 in words an admin retries on, the rules as they were', async () => {
      const before = await getJson(api('/alert-rules'), admin);
      expect(before.status).toBe(200);
      const cold = {
        id: 'cold',
        kind: 'threshold',
        metric: 'temperature',
        op: 'below',
        value: 5,
        severity: 'minor',
      };
      expect(await sendJson(api('/alert-rules'), 'POST', cold, admin)).toEqual({
        status: 503,
        body: {
          statusCode: 503,
          error: 'Service Unavailable',
          message:
            'alert rules not changed: the store cannot be written right now; try again shortly',
        },
      });
      expect(await getJson(api('/alert-rules'), admin)).toEqual(before);
    });

    it('still answers a range the recent window holds', async () => {
      const { status, body } = await getJson<HistoryResponse>(
        api(`/devices/press-1/history?from=${receivedAt}`),
      );
      expect(status).toBe(200);
      expect(body.series.map((s) => s.metric)).toEqual(['temperature']);
    });
  },
);
