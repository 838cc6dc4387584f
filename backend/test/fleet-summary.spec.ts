import type { FleetSummaryPage, IngestStats, SummaryEvent } from '@pulse/protocol';
import {
  decodeFleetSummary,
  decodeSummaryEvent,
  DS,
  metaTopic,
  statusTopic,
} from '@pulse/protocol';
import { connectLive, LiveClient, subscribe, Transport } from '@pulse/test-support';
import { getJson, publish, publishTelemetry, sendJson, sleep, waitFor } from '@pulse/test-support';
import { adminAuth, usePulse } from './support/pulse';

/** Every `summary` event a socket receives (decoded from the wire form), with when it arrived. */
function collectSummaries(socket: LiveClient) {
  const events: { at: number; event: SummaryEvent }[] = [];
  socket.on('summary', (wire) => {
    const event = decodeSummaryEvent(wire);
    if (!event) throw new Error(`a summary event that does not decode: ${JSON.stringify(wire)}`);
    events.push({ at: Date.now(), event });
  });
  return events;
}

/** Raises a `major` alert on any device whose `temp` goes above 30. */
const HOT_RULE = {
  id: 'hot',
  kind: 'threshold',
  metric: 'temp',
  op: 'above',
  value: 30,
  severity: 'major',
};

const ids = (devices: readonly (readonly unknown[])[]) => devices.map((d) => d[DS.id] as string);

// Real: the whole backend (embedded broker, ingest, registry, alerts, live layer, REST),
// mqtt.js as the devices, socket.io-client viewers on both transports.
describe('fleet summary: snapshot in the ack, deltas once a second, scope, REST', () => {
  const MAX_DEVICES = 60;
  const backend = usePulse({
    env: { MAX_DEVICES: String(MAX_DEVICES), DEVICE_IDLE_EVICT_MS: '1000' },
    device: true,
  });
  const { api } = backend;
  let admin: { authorization: string };

  beforeAll(async () => {
    admin = await adminAuth(backend.pulse.httpUrl);
    expect((await sendJson(api('/alert-rules'), 'POST', HOT_RULE, admin)).status).toBe(201);
    for (const [id, name, group] of [
      ['fs-1', 'Boiler room', 'hall-a'],
      ['fs-2', 'Cold store', 'hall-b'],
    ]) {
      await publish(backend.device, metaTopic(id), JSON.stringify({ name, group }), 1, true);
      await publishTelemetry(backend.device, id, { values: { temp: 20, hum: 40 } });
    }
    await waitFor(
      async () => (await getJson<FleetSummaryPage>(api('/fleet/summary'))).body.total === 2,
      { message: 'both devices in the summary' },
    );
    await sleep(1100); // let the setup's own push go out before anyone listens
  });

  it.each<Transport>(['websocket', 'polling'])(
    'over %s: the whole summary in the ack, then only the device that changed within 1.5 s',
    async (transport) => {
      const socket = await backend.live([transport]);
      const events = collectSummaries(socket);
      const ack = await subscribe(socket, { summary: true, history: false });
      if (!ack.ok) throw new Error(ack.error);
      expect(ack.rooms).toContain('summary');
      const summary = decodeFleetSummary(ack.summary);
      expect(summary?.metrics).toEqual(['temp', 'hum']);
      expect(summary?.devices).toEqual(
        expect.arrayContaining([
          [
            'fs-1',
            'Boiler room',
            'hall-a',
            'unknown',
            expect.any(Number),
            [expect.any(Number), 40],
          ],
          ['fs-2', 'Cold store', 'hall-b', expect.any(String), expect.any(Number), [20, 40]],
        ]),
      );

      // A reading.
      const value = transport === 'websocket' ? 21.5 : 22.5;
      let sentAt = Date.now();
      await publishTelemetry(backend.device, 'fs-1', { values: { temp: value } });
      const reading = await waitFor(
        () =>
          events.find((e) =>
            e.event.changed.some((d) => d[DS.id] === 'fs-1' && d[DS.values][0] === value),
          ),
        { timeoutMs: 3000, message: 'a summary with the new reading' },
      );
      expect(reading.at - sentAt).toBeLessThan(1500);
      expect(ids(reading.event.changed)).toEqual(['fs-1']);
      expect(reading.event.removed).toEqual([]);

      // A status change.
      const status = transport === 'websocket' ? 'offline' : 'online';
      sentAt = Date.now();
      await publish(backend.device, statusTopic('fs-2'), status, 1, true);
      const changed = await waitFor(
        () =>
          events.find((e) =>
            e.event.changed.some((d) => d[DS.id] === 'fs-2' && d[DS.status] === status),
          ),
        { timeoutMs: 3000, message: 'a summary with the new status' },
      );
      expect(changed.at - sentAt).toBeLessThan(1500);
      expect(ids(changed.event.changed)).toEqual(['fs-2']);
    },
  );

  it('shows an alert raised on a device, with its severity and count, and sorts by it', async () => {
    const socket = await backend.live();
    const events = collectSummaries(socket);
    expect((await subscribe(socket, { summary: true, history: false })).ok).toBe(true);
    const sentAt = Date.now();
    await publishTelemetry(backend.device, 'fs-2', { values: { temp: 45 } });
    const raised = await waitFor(
      () => events.find((e) => e.event.changed.some((d) => d[DS.id] === 'fs-2' && d[DS.alert])),
      { timeoutMs: 3000, message: 'the alert in the summary' },
    );
    expect(raised.event.changed.find((d) => d[DS.id] === 'fs-2')?.[DS.alert]).toEqual(['major', 1]);
    expect(raised.at - sentAt).toBeLessThan(1500);
    expect(ids(raised.event.changed)).toEqual(['fs-2']);
    const sorted = await getJson<FleetSummaryPage>(api('/fleet/summary?sort=severity'));
    expect(ids(sorted.body.devices)[0]).toBe('fs-2');
  });

  it('sends at most one summary a second under a steady load of 50 devices', async () => {
    const socket = await backend.live();
    const events = collectSummaries(socket);
    expect((await subscribe(socket, { summary: true, history: false })).ok).toBe(true);
    const load = Array.from({ length: 50 }, (_, i) => `load-${String(i).padStart(2, '0')}`);
    const until = Date.now() + 4000;
    let n = 0;
    while (Date.now() < until) {
      await Promise.all(
        load.map((id) => publishTelemetry(backend.device, id, { values: { n } }, 0)),
      );
      n++;
      await sleep(100);
    }
    await sleep(1200);
    expect(events.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < events.length; i++)
      // The timer fires every 1000 ms; a socket may see two frames a little closer through I/O.
      expect(events[i].at - events[i - 1].at).toBeGreaterThan(800);
    const last = events
      .flatMap((e) => e.event.changed)
      .filter((d) => d[DS.id] === 'load-07')
      .pop();
    expect(last?.[DS.values][2]).toBe(n - 1);
    for (const { event } of events) expect(event.changed.length).toBeLessThanOrEqual(50 + 2);
  });

  it('gives a group-scoped token its groups only, in the ack, the deltas and over REST', async () => {
    const scoped = await sendJson<{ token: string }>(
      api('/auth/tokens'),
      'POST',
      { name: 'hall-a wall', groups: ['hall-a'] },
      admin,
    );
    const token = scoped.body.token;
    const socket = backend.track(
      await connectLive(backend.pulse.httpUrl, ['websocket'], (s) => (s.auth = { token })),
    );
    const events = collectSummaries(socket);
    const ack = await subscribe(socket, { summary: true, history: false });
    if (!ack.ok) throw new Error(ack.error);
    expect(ids(decodeFleetSummary(ack.summary)?.devices ?? [])).toEqual(['fs-1']);
    // The wire form's tables are the message's own: no other group's name reaches a scoped screen.
    expect(ack.summary?.groups).toEqual(['hall-a']);
    await publishTelemetry(backend.device, 'fs-2', { values: { temp: 25 } });
    await publishTelemetry(backend.device, 'fs-1', { values: { temp: 26 } });
    await waitFor(() => events.some((e) => ids(e.event.changed).includes('fs-1')), {
      timeoutMs: 3000,
      message: 'the in-scope change',
    });
    await sleep(1100);
    for (const { event } of events) expect(ids(event.changed)).toEqual(['fs-1']);
    const rest = await getJson<FleetSummaryPage>(api('/fleet/summary'), {
      authorization: `Bearer ${token}`,
    });
    expect(ids(rest.body.devices)).toEqual(['fs-1']);
  });

  it("tells a group-scoped token only its groups' metric names, and a name once its devices use it", async () => {
    // hall-b measures something hall-a does not: a hall-a wall must not learn its name.
    await publishTelemetry(backend.device, 'fs-2', { values: { co2: 410 } });
    await waitFor(
      async () =>
        (await getJson<FleetSummaryPage>(api('/fleet/summary'))).body.metrics.includes('co2'),
      { message: 'co2 in the unscoped table' },
    );
    const scoped = await sendJson<{ token: string }>(
      api('/auth/tokens'),
      'POST',
      { name: 'hall-a names', groups: ['hall-a'] },
      admin,
    );
    const auth = { authorization: `Bearer ${scoped.body.token}` };
    const rest = await getJson<FleetSummaryPage>(api('/fleet/summary'), auth);
    expect(rest.body.metrics).toEqual(expect.arrayContaining(['temp', 'hum']));
    expect(rest.body.metrics).not.toContain('co2');
    const socket = backend.track(
      await connectLive(
        backend.pulse.httpUrl,
        ['websocket'],
        (s) => (s.auth = { token: scoped.body.token }),
      ),
    );
    const events = collectSummaries(socket);
    const ack = await subscribe(socket, { summary: true, history: false });
    if (!ack.ok) throw new Error(ack.error);
    const table = decodeFleetSummary(ack.summary)?.metrics ?? [];
    expect(table).toEqual(expect.arrayContaining(['temp', 'hum']));
    expect(table).not.toContain('co2');

    // A metric new to the fleet, in hall-b only: the table grows, the hall-a wall is not told.
    await publishTelemetry(backend.device, 'fs-2', { values: { lux: 300 } });
    await waitFor(
      async () =>
        (await getJson<FleetSummaryPage>(api('/fleet/summary'))).body.metrics.includes('lux'),
      { message: 'lux in the unscoped table' },
    );
    // Then hall-a's device reports it too: now the wall is told its name, at the fleet's index.
    await publishTelemetry(backend.device, 'fs-1', { values: { lux: 120 } });
    const named = await waitFor(() => events.find((e) => e.event.metrics?.includes('lux')), {
      timeoutMs: 3000,
      message: 'a summary naming lux to the hall-a wall',
    });
    const lux = named.event.metrics?.indexOf('lux') ?? -1;
    const fs1 = named.event.changed.find((d) => d[DS.id] === 'fs-1');
    expect(fs1?.[DS.values][lux]).toBe(120);
    for (const { event } of events) expect(event.metrics ?? []).not.toContain('co2');
    const after = await getJson<FleetSummaryPage>(api('/fleet/summary'), auth);
    expect(after.body.metrics).toContain('lux');
    expect(after.body.metrics).not.toContain('co2');
  });

  it('sorts, searches and pages over REST, and refuses a bad query', async () => {
    const byName = await getJson<FleetSummaryPage>(api('/fleet/summary?sort=name&limit=2'));
    expect(ids(byName.body.devices)).toEqual(['fs-1', 'fs-2']); // Boiler room, Cold store
    expect(byName.body.total).toBeGreaterThanOrEqual(52);
    const next = await getJson<FleetSummaryPage>(api('/fleet/summary?sort=name&offset=2&limit=3'));
    expect(ids(next.body.devices)).toEqual(['load-00', 'load-01', 'load-02']);
    const search = await getJson<FleetSummaryPage>(api('/fleet/summary?q=cold'));
    expect(ids(search.body.devices)).toEqual(['fs-2']);
    const byTemp = await getJson<FleetSummaryPage>(api('/fleet/summary?sort=metric:temp'));
    expect(ids(byTemp.body.devices).slice(0, 2)).toEqual(['fs-1', 'fs-2']); // 26, 25
    const recent = await getJson<FleetSummaryPage>(api('/fleet/summary?sort=lastSeen&limit=1'));
    expect(recent.body.devices).toHaveLength(1);
    const bad = await getJson(api('/fleet/summary?sort=colour&limit=100000'));
    expect(bad.status).toBe(400);
    // What a dashboard lays out its list with: one group, the list under group headings.
    const hallB = await getJson<FleetSummaryPage>(api('/fleet/summary?group=hall-b'));
    expect(ids(hallB.body.devices)).toEqual(['fs-2']);
    expect(hallB.body.fleet).toBe(byName.body.total);
    const grouped = await getJson<FleetSummaryPage>(api('/fleet/summary?grouped=true&limit=3'));
    expect(ids(grouped.body.devices)).toEqual(['fs-1', 'fs-2', 'load-00']);
    expect(grouped.body.groups.slice(0, 2)).toEqual([
      { name: 'hall-a', count: 1 },
      { name: 'hall-b', count: 1 },
    ]);
    expect((await getJson(api('/fleet/summary?grouped=yes'))).status).toBe(400);
  });

  it('sends an evicted device as a removal', async () => {
    const socket = await backend.live();
    const events = collectSummaries(socket);
    expect((await subscribe(socket, { summary: true, history: false })).ok).toBe(true);
    const before = ids((await getJson<FleetSummaryPage>(api('/fleet/summary'))).body.devices);
    // Fill the registry, let everyone go idle, then a newcomer makes room.
    for (let i = before.length; i < MAX_DEVICES; i++)
      await publishTelemetry(backend.device, `fill-${i}`, { values: { x: i } });
    await sleep(1200);
    await publishTelemetry(backend.device, 'newcomer', { values: { x: 1 } });
    const removal = await waitFor(() => events.find((e) => e.event.removed.length > 0), {
      timeoutMs: 3000,
      message: 'a removal',
    });
    const after = ids((await getJson<FleetSummaryPage>(api('/fleet/summary'))).body.devices);
    for (const id of removal.event.removed) {
      expect(before).toContain(id);
      expect(after).not.toContain(id);
    }
    expect(after).toContain('newcomer');
    const { body: stats } = await getJson<IngestStats>(api('/stats'));
    expect(stats.live.summary).toMatchObject({ devices: after.length, droppedMetrics: 0 });
    expect(stats.live.summary?.pushes).toBeGreaterThan(5);
  });
});
