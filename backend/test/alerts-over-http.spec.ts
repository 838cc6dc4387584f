import {
  ActiveAlertsResponse,
  AlertDelta,
  AlertEvent,
  AlertsVersionEvent,
  parseAlertsVersion,
} from '@pulse/protocol';
import { request } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import {
  LiveClient,
  getJson,
  publishTelemetry,
  sendJson,
  sleep,
  waitFor,
} from '@pulse/test-support';
import { usePulse, userToken } from './support/pulse';

const RULES_YAML = `rules:
  - id: hot
    name: Too hot
    kind: threshold
    metric: temperature
    op: above
    value: 30
    clear: 25
    severity: major
`;

/** The active list a screen holds: an alert's newest state, gone once it leaves the list. */
type Held = Map<string, AlertEvent>;
const hold = (held: Held, alert: AlertEvent): void => {
  if (alert.active) held.set(alert.id, alert);
  else held.delete(alert.id);
};
/** An alert as the list shows it (the delta's change number is the wire's, not the alert's). */
const shown = (held: Held): Record<string, unknown> =>
  Object.fromEntries(
    [...held.values()].map((alert: AlertEvent & { v?: number }) => {
      const copy = { ...alert };
      delete copy.v;
      return [alert.id, copy];
    }),
  );

/** A version as the gateway writes it (a test fails on anything else). */
function versionOf(text: unknown): { boot: string; n: number } {
  const version = parseAlertsVersion(text);
  if (!version) throw new Error(`not an alerts version: ${String(text)}`);
  return version;
}

/**
 * A screen that reads the list over HTTP (docs/decisions/0054), as the dashboard does: deltas
 * held until the list is in, then only those past its version.
 */
function httpScreen(socket: LiveClient, api: string) {
  const screen = {
    held: new Map() as Held,
    greeting: null as AlertsVersionEvent | null,
    snapshots: 0,
    read: null as Promise<void> | null,
    floor: null as number | null,
    waiting: [] as AlertDelta[],
  };
  socket.on('alerts', () => screen.snapshots++);
  socket.on('alert', (delta) => {
    if (screen.floor === null) screen.waiting.push(delta);
    else if (delta.v > screen.floor) hold(screen.held, delta);
  });
  socket.on('alertsVersion', (greeting) => {
    screen.greeting = greeting;
    screen.read = getJson<ActiveAlertsResponse>(api).then(({ status, body }) => {
      expect(status).toBe(200);
      const version = versionOf(body.version);
      const greeted = versionOf(greeting.version);
      expect(version.boot).toBe(greeted.boot);
      expect(version.n).toBeGreaterThanOrEqual(greeted.n);
      for (const alert of body.alerts) hold(screen.held, alert);
      screen.floor = version.n;
      for (const delta of screen.waiting.splice(0))
        if (delta.v > version.n) hold(screen.held, delta);
    });
  });
  return screen;
}

/** GET with the raw bytes as they came (no decoding), and the headers. */
function rawGet(url: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>(
    (resolve, reject) => {
      request(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      })
        .on('error', reject)
        .end();
    },
  );
}

// Real: the whole backend (embedded broker, ingest, alert engine, Socket.IO, HTTP); devices
// publish with mqtt.js, screens are socket.io-client plus fetch.
describe('the active alerts over HTTP (0054)', () => {
  let dir: string;
  let rulesFile: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-alerts-http-'));
    rulesFile = join(dir, 'rules.yaml');
    writeFileSync(rulesFile, RULES_YAML);
  });
  const backend = usePulse({ env: () => ({ ALERT_RULES_FILE: rulesFile }), device: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const { live, api } = backend;
  const temperature = (id: string, value: number) =>
    publishTelemetry(backend.device, id, { values: { temperature: value } }, 0);

  it('greets a screen that asks with the version instead of the list, and numbers every delta', async () => {
    await temperature('ov-0', 35);
    await waitFor(
      async () => (await getJson<ActiveAlertsResponse>(api('/alerts'))).body.alerts.length > 0,
    );
    const greetings: AlertsVersionEvent[] = [];
    let snapshots = 0;
    const deltas: AlertDelta[] = [];
    await live(undefined, (socket) => {
      socket.auth = { alerts: 'http' };
      socket.on('alertsVersion', (greeting) => greetings.push(greeting));
      socket.on('alerts', () => snapshots++);
      socket.on('alert', (delta) => deltas.push(delta));
    });
    // A screen that does not ask (any other value) keeps the snapshot.
    let legacy: AlertEvent[] | null = null;
    await live(undefined, (socket) => {
      socket.auth = { alerts: 'HTTP' };
      socket.on('alerts', (list) => (legacy = list));
    });
    await waitFor(() => greetings.length === 1 && legacy !== null);
    expect(snapshots).toBe(0);
    expect((legacy as AlertEvent[] | null)?.map((a) => a.deviceId)).toContain('ov-0');
    const greeted = versionOf(greetings[0].version);

    await temperature('ov-0', 20); // cleared: a change
    await temperature('ov-1', 35); // raised: another
    await waitFor(() => deltas.length === 2);
    expect(deltas.map((d) => d.v)).toEqual([greeted.n + 1, greeted.n + 2]);
    const { body } = await getJson<ActiveAlertsResponse>(api('/alerts'));
    expect(body.version).toBe(`${greeted.boot}.${greeted.n + 2}`);
  });

  it('leaves a screen that read it over HTTP with the list a snapshot screen has, through a storm of changes', async () => {
    const devices = Array.from({ length: 24 }, (_, i) => `ov-storm-${i}`);
    const operator = await userToken(backend.pulse.httpUrl, 'olive', 'operator');
    let storming = true;
    const storm = (async () => {
      // Each device flips between raised and cleared; now and then an operator acknowledges a
      // cleared one, which leaves the list.
      for (let round = 0; storming; round++) {
        await Promise.all(devices.map((id, i) => temperature(id, (round + i) % 2 === 0 ? 35 : 20)));
        if (round % 5 === 4) {
          const { body } = await getJson<ActiveAlertsResponse>(api('/alerts'));
          const cleared = body.alerts.filter((a) => a.state === 'cleared').slice(0, 3);
          for (const alert of cleared)
            await sendJson(
              api(`/alerts/${alert.id}/ack`),
              'POST',
              {},
              {
                authorization: `Bearer ${operator}`,
              },
            );
        }
        await sleep(15);
      }
    })();
    const screens: ReturnType<typeof httpScreen>[] = [];
    const snapshotScreens: Held[] = [];
    for (let i = 0; i < 8; i++) {
      await live(undefined, (socket) => {
        socket.auth = { alerts: 'http' };
        screens.push(httpScreen(socket, api('/alerts')));
      });
      const held: Held = new Map();
      snapshotScreens.push(held);
      await live(undefined, (socket) => {
        socket.on('alerts', (list) => list.forEach((alert) => hold(held, alert)));
        socket.on('alert', (delta) => hold(held, delta));
      });
      await sleep(60);
    }
    await sleep(300);
    storming = false;
    await storm;
    await Promise.all(screens.map((screen) => screen.read));
    // Settled: every event sent has reached every screen.
    const list = async (): Promise<Held> =>
      new Map(
        (await getJson<ActiveAlertsResponse>(api('/alerts'))).body.alerts.map((a) => [a.id, a]),
      );
    const same = (a: Held, b: Held) =>
      JSON.stringify(Object.entries(shown(a)).sort()) ===
      JSON.stringify(Object.entries(shown(b)).sort());
    let final: Held = new Map();
    await waitFor(async () => {
      final = await list();
      return [...screens.map((s) => s.held), ...snapshotScreens].every((held) => same(held, final));
    }).catch(() => undefined); // the assertions below say what differs
    const expected = shown(final);
    expect(Object.keys(expected).length).toBeGreaterThan(0);
    for (const screen of screens) {
      expect(screen.snapshots).toBe(0);
      expect(shown(screen.held)).toEqual(expected);
    }
    for (const held of snapshotScreens) expect(shown(held)).toEqual(expected);
  });

  it('answers the whole list compressed, once per version, as the client accepts', async () => {
    await temperature('ov-z', 35);
    await waitFor(async () =>
      (await getJson<ActiveAlertsResponse>(api('/alerts'))).body.alerts.some(
        (a) => a.deviceId === 'ov-z',
      ),
    );
    const url = api('/alerts');
    const plain = await rawGet(url, {});
    const br = await rawGet(url, { 'accept-encoding': 'gzip, deflate, br' });
    const gzip = await rawGet(url, { 'accept-encoding': 'gzip' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(br.headers['content-encoding']).toBe('br');
    expect(gzip.headers['content-encoding']).toBe('gzip');
    for (const answer of [plain, br, gzip]) {
      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
      expect(answer.headers['vary']).toMatch(/Accept-Encoding/i);
      // Who asks decides the body: no cache on the way may give it to anyone else.
      expect(answer.headers['cache-control']).toBe('private, no-cache');
    }
    const body = JSON.parse(plain.body.toString()) as ActiveAlertsResponse;
    expect(JSON.parse(brotliDecompressSync(br.body).toString())).toEqual(body);
    expect(JSON.parse(gunzipSync(gzip.body).toString())).toEqual(body);
    expect(br.body.length).toBeLessThan(plain.body.length);
    // No change in between: the same bytes, and the same validator (a 304 for a screen that has them).
    const again = await rawGet(url, { 'accept-encoding': 'br' });
    expect(again.body.equals(br.body)).toBe(true);
    const revalidated = await rawGet(url, {
      'accept-encoding': 'br',
      'if-none-match': String(br.headers['etag']),
    });
    expect(revalidated.status).toBe(304);
  });
});
