import {
  DeviceInfo,
  decodeFleetSummary,
  decodeSummaryEvent,
  DS,
  fromWire,
  IngestStats,
  metaTopic,
  Reading,
  SubscribeAck,
  telemetryTopic,
} from '@pulse/protocol';
import {
  collectReadings,
  connectLive,
  CollectedReadings,
  getJson,
  LiveClient,
  publish,
  publishTelemetry,
  sleep,
  subscribe,
  Transport,
  waitFor,
} from '@pulse/test-support';
import { usePulse } from './support/pulse';

// Real: embedded broker, ingest, live hub, the direct-write fan-out and engine.io's own path,
// with the stock socket.io-client. Issue 12's wire hazards: readings of many rooms flowing while
// sockets take engine.io's path (long-polling, packets queued during the polling → websocket
// upgrade, plain emits in flight) — every client must get exactly its own devices' readings, in
// order, each once, none lost.

const DEVICES = 12;
const ROUNDS = 150;
const device = (i: number) => `wire-${i}`;

/** Per device, the `seq` values a client received, in arrival order. */
function sequences(readings: Reading[]): Map<string, number[]> {
  const byDevice = new Map<string, number[]>();
  for (const reading of readings) {
    let list = byDevice.get(reading.deviceId);
    if (!list) byDevice.set(reading.deviceId, (list = []));
    list.push(reading.values['seq']);
  }
  return byDevice;
}

describe('the live wire across transports and upgrades', () => {
  const backend = usePulse({ env: { FLUSH_MS: '20' }, device: true });

  it('gives every client exactly its rooms’ readings, in order and once, across the polling → websocket upgrade', async () => {
    interface Watcher {
      socket: LiveClient;
      devices: string[];
      received: CollectedReadings;
      /** The round being published when its subscribe was acknowledged. */
      ackedAt: number;
      upgradedAt: number | null;
    }
    let round = 0;
    const watchers: Watcher[] = [];
    const watch = async (devices: string[], transports: ('polling' | 'websocket')[]) => {
      // The stock client's default: long-polling first, then the upgrade to websocket.
      const socket = backend.track(await connectLive(backend.pulse.httpUrl, transports));
      const watcher: Watcher = {
        socket,
        devices,
        received: collectReadings(socket),
        ackedAt: -1,
        upgradedAt: null,
      };
      socket.io.engine.once('upgrade', () => (watcher.upgradedAt = round));
      expect(await subscribe(socket, { devices, history: false })).toMatchObject({ ok: true });
      watcher.ackedAt = round;
      watchers.push(watcher);
    };
    const statsBefore = (await getJson<IngestStats>(backend.api('/stats'))).body.live;

    // Publish round after round while the clients connect, subscribe and upgrade.
    const publishing = (async () => {
      for (; round < ROUNDS; round++) {
        for (let d = 0; d < DEVICES; d++)
          backend.device.publish(
            telemetryTopic(device(d)),
            JSON.stringify({ values: { seq: round } }),
            { qos: 0 },
          );
        await sleep(10);
      }
    })();
    const pairs = Array.from({ length: DEVICES / 2 }, (_, k) => [device(2 * k), device(2 * k + 1)]);
    await Promise.all([
      ...pairs.map((devices) => watch(devices, ['polling', 'websocket'])),
      // Beside them, websocket-only clients on overlapping rooms (the direct-write path).
      watch([device(0), device(5)], ['websocket']),
      watch([device(7), device(11)], ['websocket']),
      // And one that never upgrades: engine.io's path for every one of its frames.
      watch([device(3), device(8)], ['polling']),
    ]);
    await publishing;

    for (const w of watchers) {
      const last = ROUNDS - 1;
      await waitFor(
        () => w.devices.every((id) => sequences(w.received.readings).get(id)?.at(-1) === last),
        {
          timeoutMs: 10_000,
          message: `the last round for ${w.devices.join(', ')} (got ${JSON.stringify([...sequences(w.received.readings)].map(([id, s]) => [id, s.length, s.at(-1)]))})`,
        },
      );
    }
    await sleep(200); // let any duplicate or stray frame arrive
    for (const w of watchers) {
      const got = sequences(w.received.readings);
      // Nothing foreign: only the devices it subscribed.
      expect([...got.keys()].sort()).toEqual([...w.devices].sort());
      for (const id of w.devices) {
        const seqs = got.get(id) ?? [];
        // From its first reading on, every round once and in order…
        expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs[0] + i));
        // …and nothing lost after the subscribe was acknowledged.
        expect(seqs[0]).toBeLessThanOrEqual(Math.max(0, w.ackedAt) + 1);
      }
    }
    // The long-polling clients upgraded while readings flowed, and engine.io's path was taken.
    // (On a loaded machine some upgrade only after the last round: at least one during it.)
    const upgraded = watchers.filter((w) => w.upgradedAt !== null && w.upgradedAt < ROUNDS);
    expect(upgraded.length).toBeGreaterThan(0);
    for (const w of upgraded) expect(w.socket.io.engine.transport.name).toBe('websocket');
    const statsAfter = (await getJson<IngestStats>(backend.api('/stats'))).body.live;
    expect((statsAfter.engineWrites ?? 0) - (statsBefore.engineWrites ?? 0)).toBeGreaterThan(0);
  });
});

// Chromium decodes a websocket text message holding any non-ASCII byte on the page's main thread,
// about 0.1 ms per kB (a 10,000-device fleet summary with a "·" in its names: 50–80 ms every
// second, frames dropped while scrolling); an ASCII one takes a fast path. So every frame the
// gateway writes is ASCII, names outside ASCII escaped in the JSON, arriving as they were named.
describe('the live wire is ASCII text, whatever the names', () => {
  const backend = usePulse({ device: true });
  const ID = 'wire-named';
  const NAMES = ['Kühlraum · Süd ☃ 🌡 東京', 'Salle froide · Nord ❄'];

  it.each<Transport>(['websocket', 'polling'])(
    'over %s: a name outside ASCII arrives as named, in frames of ASCII text only',
    async (transport) => {
      await publish(backend.device, metaTopic(ID), JSON.stringify({ name: NAMES[0] }), 1, true);
      await publishTelemetry(backend.device, ID, { values: { temp: 20 } });
      await waitFor(
        async () =>
          (await getJson<DeviceInfo>(backend.api(`/devices/${ID}`))).body.meta?.name === NAMES[0],
        { message: 'the device with its first name' },
      );
      const texts: string[] = [];
      const named = { devices: [] as string[], summary: [] as string[] };
      const socket = await backend.live([transport], (s) => {
        s.io.on('open', () =>
          s.io.engine.on('packet', ({ data }) => {
            if (typeof data === 'string') texts.push(data);
          }),
        );
        s.on('devices', (devices: DeviceInfo[]) =>
          named.devices.push(...devices.map((d) => d.meta?.name ?? '')),
        );
        s.on('summary', (wire) => {
          for (const d of decodeSummaryEvent(wire)?.changed ?? [])
            named.summary.push(d[DS.name] ?? '');
        });
      });
      const ack = await subscribe(socket, { summary: true, devices: [ID] });
      if (!ack.ok) throw new Error(ack.error);
      const summary = decodeFleetSummary(ack.summary);
      expect(summary?.devices.find((d) => d[DS.id] === ID)?.[DS.name]).toBe(NAMES[0]);

      // Renamed while watched: the `devices` event and the next summary carry the new name.
      await publish(backend.device, metaTopic(ID), JSON.stringify({ name: NAMES[1] }), 1, true);
      await publishTelemetry(backend.device, ID, { values: { temp: 21 } });
      await waitFor(() => named.devices.includes(NAMES[1]) && named.summary.includes(NAMES[1]), {
        timeoutMs: 5000,
        message: `the new name in a devices event and a summary (got ${JSON.stringify(named)})`,
      });

      const nonAscii = texts.filter((t) => /[^\x20-\x7e]/.test(t));
      expect(nonAscii.map((t) => t.slice(0, 120))).toEqual([]);
      // The names did travel in those frames, escaped.
      expect(texts.some((t) => t.includes('K\\u00fchlraum'))).toBe(true);
    },
  );
});

// Decision 0048: a screen asks its history with time deltas, and the same points arrive in
// fewer bytes, over either transport.
describe('history with time deltas', () => {
  const backend = usePulse({ device: true });
  const ID = 'wire-deltas';
  const POINTS = 20;

  it.each<Transport>(['websocket', 'polling'])(
    'over %s: the same points as plain history, in fewer bytes',
    async (transport) => {
      const t0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;
      for (let i = 0; i < POINTS; i++)
        await publishTelemetry(backend.device, ID, {
          ts: t0 + i * 1000 + (i % 3),
          values: { temp: 20 + i / 10, hum: 50 + i },
        });
      const plainRequest = { devices: [ID], since: t0, maxPoints: 100 };
      const texts: string[] = [];
      const socket = await backend.live([transport], (s) =>
        s.io.on('open', () =>
          s.io.engine.on('packet', ({ data }) => {
            if (typeof data === 'string' && data.includes('"history"')) texts.push(data);
          }),
        ),
      );
      let plain = { ok: false, error: 'not asked' } as SubscribeAck;
      await waitFor(
        async () => {
          plain = await subscribe(socket, plainRequest);
          if (plain.ok && plain.history.every((s) => fromWire(s).t.length === POINTS)) return true;
          // What the last answer held, for the timeout's message (this has failed under load).
          throw new Error(
            plain.ok
              ? `points per metric ${plain.history.map((s) => fromWire(s).t.length).join('/')}`
              : `refused: ${plain.error}`,
          );
        },
        // Asked as a screen would, not every 20 ms: over polling, acknowledgements the client
        // has not fetched yet count as unread data (lag monitor), and a busy machine is slow.
        {
          timeoutMs: 20_000,
          intervalMs: 250,
          message: 'both metrics with every point in the history',
        },
      );
      const deltas = await subscribe(socket, { ...plainRequest, timeDeltas: true });
      if (!plain.ok || !deltas.ok) throw new Error('refused');
      expect(plain.history).toHaveLength(2);
      expect(deltas.history.every((s) => 'dt' in s)).toBe(true);
      expect(deltas.history.map(fromWire)).toEqual(plain.history);
      expect(fromWire(deltas.history[0]).t[1]).toBe(t0 + 1001);
      // The last two acknowledgements on the wire: the plain one, then the deltas.
      const [plainText, deltasText] = texts.slice(-2);
      expect(deltasText.length).toBeLessThan(plainText.length * 0.8);
    },
  );
});
