/**
 * One gateway per history journal (decision 0073). A second `node dist/backend/main.js` started
 * by mistake on a running gateway's DATA_DIR (QA: the same command twice) "recovered" the running
 * one's journal, replaying and deleting its segments before anything refused it: the running
 * gateway lost the journal that makes its QoS 1 readings survive a crash, and its clean stop
 * failed on the segment gone (`shutdown failed: … ENOENT … unlink`). Other ports here, so no
 * port check can stand in for the lock: the second must refuse on the journal alone, exit 1,
 * touch nothing, and the first must stop cleanly. A holder that died (SIGKILL) must not hold a
 * restart up: the gateway started again at once is up within seconds and writes the journal.
 * Real: the built gateway, its embedded broker, a QoS 1 device.
 */
import type { HistoryResponse } from '@pulse/protocol';
import {
  BACKEND_MAIN,
  E2E_ADMIN_PASSWORD,
  freePort,
  getJson,
  spawnNode,
  startBuiltBackend,
  waitFor,
} from '@pulse/test-support';
import mqtt from 'mqtt';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DEVICE = 'journal-held';

/** The journal's segments and what each holds, by name. */
function segments(journal: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const name of readdirSync(journal).filter((n) => /^segment-\d+\.jsonl$/.test(n)))
    found[name] = readFileSync(join(journal, name), 'utf8');
  return found;
}

/** A QoS 1 reading acknowledged by the gateway's broker: journaled before the PUBACK. */
async function publishQos1(mqttUrl: string, ts: number): Promise<void> {
  const device = await mqtt.connectAsync(mqttUrl, { clientId: DEVICE, reconnectPeriod: 0 });
  try {
    await device.publishAsync(
      `devices/${DEVICE}/telemetry`,
      JSON.stringify({ ts, values: { a: 42 } }),
      { qos: 1 },
    );
  } finally {
    await device.endAsync();
  }
}

/** 'still running' after `ms`. */
const within = (ms: number) =>
  new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), ms).unref());

/** Waits until a segment of `journal` holds a line (the reading published). */
const journaled = (journal: string) =>
  waitFor(
    () =>
      readdirSync(journal).some(
        (n) => n.startsWith('segment-') && statSync(join(journal, n)).size > 0,
      ),
    { message: `a reading journaled in ${journal}`, timeoutMs: 10_000 },
  );

describe.each([
  ['without GATEWAY_ID', {}, 'history-journal'],
  ['with the same GATEWAY_ID', { GATEWAY_ID: 'a' }, 'history-journal/gateway-a'],
])('a second gateway on a running one’s journal (%s)', (_name, identity, folder) => {
  let dataDir: string;
  beforeEach(() => (dataDir = mkdtempSync(join(tmpdir(), 'pulse-journal-lock-'))));
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const env = () => ({
    DATA_DIR: dataDir,
    SIMULATOR: 'off',
    // Nothing is flushed while the test runs: the reading stays in the journal only.
    HISTORY_FLUSH_MS: '60000',
    // The clean stop's `stopped in N ms` is logged at `log`.
    LOG_LEVEL: 'log',
    ...identity,
  });

  it('refuses to start, exits 1 naming the holder, leaves the journal alone; the first stops cleanly', async () => {
    const first = await startBuiltBackend(
      { http: await freePort(), mqtt: await freePort() },
      env(),
    );
    const journal = join(dataDir, folder);
    let second: ReturnType<typeof spawnNode> | undefined;
    try {
      await publishQos1(first.mqttUrl, Date.now() - 1000);
      await journaled(journal);
      const before = segments(journal);

      second = spawnNode(BACKEND_MAIN, [], {
        env: {
          ...env(),
          PORT: String(await freePort()),
          MQTT_PORT: String(await freePort()),
          HOST: '127.0.0.1',
          PULSE_ADMIN_PASSWORD: E2E_ADMIN_PASSWORD,
        },
      });
      const started = second;
      // Before the fix it started (its ports are free) and ran on: not an exit at all.
      const exit = await Promise.race([started.exit, within(20_000)]);

      expect({ exit, output: started.output }).toEqual({
        exit: { code: 1, signal: null },
        output: expect.stringContaining('is Pulse already running with this DATA_DIR'),
      });
      expect(started.output).toContain(`process ${first.pid}`);
      expect(segments(journal)).toEqual(before);

      process.kill(first.pid, 'SIGINT');
      expect(await first.exit).toEqual({ code: 0, signal: null });
      expect(first.output()).toContain('stopped in');
      expect(first.output()).not.toContain('shutdown failed');
    } finally {
      second?.child.kill('SIGKILL');
      await first.kill();
    }
  }, 60_000);

  it('does not hold up a restart after a crash: up within seconds, the journal written', async () => {
    const ports = { http: await freePort(), mqtt: await freePort() };
    const first = await startBuiltBackend(ports, env());
    const ts = Date.now() - 1000;
    let again: Awaited<ReturnType<typeof startBuiltBackend>> | undefined;
    try {
      await publishQos1(first.mqttUrl, ts);
      await journaled(join(dataDir, folder));
      // The device in the registry (stored once a second), so its history can be asked for.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await first.kill();

      const restarting = performance.now();
      again = await startBuiltBackend(ports, env());
      // A holder judged by a heartbeat or a file's age would hold this up for its stale time.
      expect(performance.now() - restarting).toBeLessThan(10_000);
      const { status, body } = await getJson<HistoryResponse>(
        `${again.httpUrl}/api/devices/${DEVICE}/history?from=${ts - 1}`,
      );
      expect({ status, points: body.series[0]?.t }).toEqual({ status: 200, points: [ts] });
    } finally {
      await again?.kill();
      await first.kill();
    }
  }, 60_000);
});
