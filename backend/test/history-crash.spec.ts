/**
 * A gateway killed mid-stream loses nothing the broker delivered (issue 13). The production
 * path: Mosquitto holds the gateway's persistent session, a QoS 1 device publishes throughout;
 * the built gateway is killed with SIGKILL between two history flushes (HISTORY_FLUSH_MS 500),
 * started again on the same data while the device goes on. Every reading the broker accepted is
 * then in history exactly once: those the gateway had acknowledged from its write-ahead journal,
 * the rest redelivered by the broker.
 *
 * The embedded broker (Aedes, in the gateway's process) has no one to redeliver: what it
 * acknowledged must be journaled before its PUBACK goes out. Aedes writes the PUBACK of every
 * QoS 1 publish in a socket read at once and routes them to the ingest a turn later, so a device
 * sending bursts keeps acknowledged, not yet journaled messages in the gateway most of the time.
 */
import type { HistoryResponse, IngestStats } from '@pulse/protocol';
import { freePort, getJson, startBuiltBackend, startMosquitto, waitFor } from '@pulse/test-support';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';

/** Crashes of the embedded-broker case (each on a fresh device, same data directory). */
const ROUNDS = 5;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function connected(httpUrl: string): Promise<void> {
  await waitFor(
    async () => (await getJson<IngestStats>(`${httpUrl}/api/stats`)).body.broker.connected,
    { message: 'the gateway subscribed at the broker', timeoutMs: 15_000 },
  );
}

/** What history holds for `deviceId` from `from` on (every point: maxPoints above the count). */
async function storedTs(httpUrl: string, deviceId: string, from: number, count: number) {
  const { status, body } = await getJson<HistoryResponse>(
    `${httpUrl}/api/devices/${deviceId}/history?from=${from}&maxPoints=${count + 10}`,
  );
  if (status !== 200) throw new Error(`history of ${deviceId}: ${status} ${JSON.stringify(body)}`);
  return body.series[0]?.t ?? [];
}

describe('history when the gateway is killed mid-stream', () => {
  it('holds every reading the broker delivered once, journaled or redelivered', async () => {
    // The gateway's session queues what is published while it is down; Mosquitto's default
    // bound (1,000 messages, 2 s of this stream) drops the rest when a loaded machine is slow to
    // restart the gateway — a loss at the broker, not in Pulse (deploy/mosquitto.conf raises it).
    const mosquitto = await startMosquitto({ maxQueuedMessages: 100_000 });
    const dataDir = mkdtempSync(join(tmpdir(), 'pulse-history-crash-'));
    const ports = { http: await freePort(), mqtt: await freePort() };
    const env = {
      DATA_DIR: dataDir,
      SIMULATOR: 'off',
      MQTT_URL: mosquitto.url,
      MQTT_CLIENT_ID: 'pulse-crash-test',
      HISTORY_FLUSH_MS: '500',
    };
    let gateway = await startBuiltBackend(ports, env);
    const device = await mqtt.connectAsync(mosquitto.url, { clientId: 'crash-device' });
    const t0 = Date.now() - 60_000;
    const acked: number[] = [];
    let sent = 0;
    let publishing = true;
    try {
      await connected(gateway.httpUrl);
      // ~500 readings/s, each with its own ts; a reading counts once the broker acknowledged it.
      const pump = (async () => {
        while (publishing) {
          for (let k = 0; k < 5; k++) {
            const ts = t0 + sent++;
            void device
              .publishAsync('devices/crash-2/telemetry', JSON.stringify({ ts, values: { a: 1 } }), {
                qos: 1,
              })
              .then(() => acked.push(ts));
          }
          await sleep(10);
        }
      })();
      await sleep(1200);
      // Mid-stream, between two flushes: the queue holds acknowledged readings.
      const { pid } = gateway;
      await gateway.kill();
      expect(alive(pid)).toBe(false);
      await sleep(300); // the broker queues for the gateway's session meanwhile
      gateway = await startBuiltBackend(ports, env);
      await connected(gateway.httpUrl);
      await sleep(500);
      publishing = false;
      await pump;
      await waitFor(() => acked.length === sent, {
        message: 'the broker acknowledged every reading',
      });

      const stored = await waitFor(
        async () => {
          const { body } = await getJson<HistoryResponse>(
            `${gateway.httpUrl}/api/devices/crash-2/history?from=${t0}&maxPoints=${sent + 10}`,
          );
          const t = body.series[0]?.t ?? [];
          return t.length >= sent ? t : null;
        },
        // Each check is a history read: paced under the gateway's budget (300 per 10 s).
        { message: `all ${sent} readings in history`, timeoutMs: 15_000, intervalMs: 100 },
      ).catch(async (error: Error) => {
        const { body } = await getJson<HistoryResponse>(
          `${gateway.httpUrl}/api/devices/crash-2/history?from=${t0}&maxPoints=${sent + 10}`,
        );
        const have = new Set(body.series[0]?.t ?? []);
        const missing = acked.filter((ts) => !have.has(ts)).map((ts) => ts - t0);
        throw new Error(
          `${error.message}: ${missing.length} missing, e.g. #${missing.slice(0, 5)}`,
        );
      });
      expect(new Set(stored).size).toBe(stored.length);
      expect([...stored].sort((a, b) => a - b)).toEqual(acked.sort((a, b) => a - b));
    } finally {
      publishing = false;
      await device.endAsync().catch(() => undefined);
      await gateway.kill();
      await mosquitto.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('behind the embedded broker, holds every reading it acknowledged, once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pulse-history-crash-embedded-'));
    const ports = { http: await freePort(), mqtt: await freePort() };
    const env = { DATA_DIR: dataDir, SIMULATOR: 'off', HISTORY_FLUSH_MS: '500' };
    const t0 = Date.now() - 600_000;
    const deviceId = 'crash-embedded';
    let gateway = await startBuiltBackend(ports, env);
    try {
      // Known to the registry before the first crash (it stores new devices once a second).
      const first = await mqtt.connectAsync(gateway.mqttUrl, { clientId: deviceId });
      await first.publishAsync(
        `devices/${deviceId}/telemetry`,
        JSON.stringify({ values: { a: 0 } }),
        {
          qos: 1,
        },
      );
      await first.endAsync();
      await sleep(1500);
      // A few crashes, each at a different point of the stream: one is enough to lose readings.
      for (let round = 0; round < ROUNDS; round++) {
        const device = await mqtt.connectAsync(gateway.mqttUrl, {
          clientId: deviceId,
          reconnectPeriod: 0,
        });
        const closed = new Promise<void>((resolve) => device.once('close', () => resolve()));
        const acked: number[] = [];
        let sent = 0;
        // Bursts of 20 QoS 1 publishes every 5 ms (~4,000 readings/s), each with its own ts;
        // a reading counts once the device holds its PUBACK.
        const timer = setInterval(() => {
          for (let k = 0; k < 20; k++) {
            const ts = t0 + round * 100_000 + sent++;
            void device
              .publishAsync(
                `devices/${deviceId}/telemetry`,
                JSON.stringify({ ts, values: { a: 1 } }),
                {
                  qos: 1,
                },
              )
              .then(
                () => acked.push(ts),
                () => undefined,
              );
          }
        }, 5);
        await sleep(700 + 150 * round);
        const { pid } = gateway;
        await gateway.kill();
        expect(alive(pid)).toBe(false);
        await closed; // every PUBACK the gateway wrote has been read by now
        clearInterval(timer);
        device.end(true);
        gateway = await startBuiltBackend(ports, env);

        const from = t0 + round * 100_000;
        const stored = await storedTs(gateway.httpUrl, deviceId, from, sent);
        const have = new Set(stored);
        const missing = acked.filter((ts) => !have.has(ts)).map((ts) => ts - from);
        expect({ round, acked: acked.length, missing }).toEqual({
          round,
          acked: acked.length,
          missing: [],
        });
        expect(have.size).toBe(stored.length);
        expect(acked.length).toBeGreaterThan(100);
      }
    } finally {
      await gateway.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
