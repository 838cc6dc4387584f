import {
  WireSeries,
  fromWire,
  FLEET_ROOM,
  Reading,
  SubscribeAck,
  decodeFleetSummary,
  deviceRoom,
  groupRoom,
} from '@pulse/protocol';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { FleetSummaryService } from '../fleet/fleet-summary.service';
import { HistoryReader } from '../history/history-reader.service';
import { HistoryService } from '../history/history.service';
import { HistoryUnavailableError } from '../history/history-unavailable';
import { RawJson } from './ack-encoder';
import { LiveEmitter } from './live-emitter';
import { LiveHubService } from './live-hub.service';
import {
  DEFAULT_ACK_POINTS,
  LiveSubscriptionService,
  MAX_ROOMS_PER_SOCKET,
  RoomMembership,
  SubscribeAnswer,
} from './live-subscription.service';

// Real registry and history (in memory); the socket's rooms are a plain set.
describe('LiveSubscriptionService', () => {
  const now = Date.now();
  let registry: DeviceRegistryService;
  let history: HistoryService;
  let sut: LiveSubscriptionService;
  let rooms: Set<string>;
  const membership: RoomMembership = {
    current: () => new Set(rooms),
    join: (names) => names.forEach((name) => rooms.add(name)),
    leave: (names) => names.forEach((name) => rooms.delete(name)),
  };

  /** `count` readings of metric `t`, one a second, ending at `now`. */
  const feed = (deviceId: string, count: number, group?: string) => {
    const readings: Reading[] = [];
    for (let i = count - 1; i >= 0; i--)
      readings.push({ deviceId, ts: now - i * 1000, values: { t: i } });
    if (group) registry.applyMeta(deviceId, { group }, now);
    registry.applyReadings(deviceId, readings, now);
    history.record(deviceId, readings);
  };

  // Without a durable store every ack is synchronous.
  const subscribe = (...args: Parameters<LiveSubscriptionService['subscribe']>) =>
    sut.subscribe(...args) as SubscribeAck;

  beforeEach(() => {
    registry = new DeviceRegistryService({ MAX_DEVICES: 100 });
    history = new HistoryService({ HISTORY_WINDOW_MS: 3_600_000, HISTORY_MAX_POINTS: 10_000 });
    sut = new LiveSubscriptionService({ HISTORY_WINDOW_MS: 60_000 }, registry, history);
    rooms = new Set();
  });

  it('leaves the rooms a subscribe joined when its history cannot be read, and keeps those it had', async () => {
    feed('d1', 3);
    feed('d2', 3);
    const down = new HistoryUnavailableError();
    const reader = { query: () => Promise.reject(down) } as unknown as HistoryReader;
    const withStore = new LiveSubscriptionService(
      { HISTORY_WINDOW_MS: 60_000 },
      registry,
      history,
      undefined,
      reader,
    );
    rooms.add(deviceRoom('d1'));
    await expect(withStore.subscribe(membership, { devices: ['d1', 'd2'] })).rejects.toBe(down);
    expect([...rooms]).toEqual([deviceRoom('d1')]);
  });

  it('encodes the unscoped fleet summary once per push interval, for every screen that asks', () => {
    feed('d1', 3, 'hall');
    feed('d2', 3, 'yard');
    const summary = new FleetSummaryService(registry);
    sut = new LiveSubscriptionService({ HISTORY_WINDOW_MS: 60_000 }, registry, history, summary);
    const ask = (scope: string[] | null) =>
      sut.subscribe(membership, { summary: true, history: false }, scope) as SubscribeAnswer;
    const first = ask(null);
    const second = ask(null);
    if (!first.ok || !second.ok) throw new Error('refused');
    expect(first.summary).toBeInstanceOf(RawJson);
    expect(second.summary).toBe(first.summary);
    // The text is the wire form a screen decodes, with every device and its points counted.
    const text = first.summary as RawJson;
    const decoded = decodeFleetSummary(JSON.parse(text.json));
    expect(decoded?.devices.map((d) => d[0]).sort()).toEqual(['d1', 'd2']);
    expect(text.points).toBe(2);
    // A scoped caller (a wall screen's token) gets a summary of its groups, its own.
    const scoped = ask(['hall']);
    if (!scoped.ok) throw new Error(scoped.error);
    expect(scoped.summary).not.toBeInstanceOf(RawJson);
    expect(decodeFleetSummary(scoped.summary)?.devices.map((d) => d[0])).toEqual(['d1']);
  });

  it('joins the device, group and fleet rooms and acknowledges with their devices and history', () => {
    feed('d1', 10, 'hall');
    feed('d2', 10, 'yard');
    const ack = subscribe(membership, { devices: ['d1'], groups: ['yard'], fleet: false });
    if (!ack.ok) throw new Error(ack.error);
    expect(new Set(ack.rooms)).toEqual(new Set([deviceRoom('d1'), groupRoom('yard')]));
    expect(ack.devices.map((d) => d.deviceId).sort()).toEqual(['d1', 'd2']);
    expect(
      ack.history
        .map(fromWire)
        .map((s) => [s.deviceId, s.metric, s.t.length])
        .sort(),
    ).toEqual([
      ['d1', 't', 10],
      ['d2', 't', 10],
    ]);
  });

  it('spreads history from `since` over the range, up to maxPoints per series', () => {
    feed('d1', 100);
    const ack = subscribe(membership, { devices: ['d1'], since: now - 49_000, maxPoints: 5 });
    if (!ack.ok) throw new Error(ack.error);
    const [series] = ack.history.map(fromWire);
    expect(series.t.length).toBeLessThanOrEqual(5);
    expect(series.t[0]).toBeGreaterThanOrEqual(now - 49_000);
    // Decimated over the whole gap, not its newest end.
    expect(series.t[series.t.length - 1] - series.t[0]).toBeGreaterThan(30_000);
  });

  it('sends the default window and DEFAULT_ACK_POINTS without since/maxPoints, none with history:false', () => {
    feed('d1', 2 * DEFAULT_ACK_POINTS);
    const ack = subscribe(membership, { fleet: true });
    if (!ack.ok) throw new Error(ack.error);
    const [series] = ack.history.map(fromWire);
    expect(series.t.length).toBeLessThanOrEqual(DEFAULT_ACK_POINTS);
    expect(series.t[0]).toBeGreaterThanOrEqual(now - 60_000);
    const none = subscribe(membership, { fleet: true, history: false });
    expect(none).toMatchObject({ ok: true, history: [], rooms: [FLEET_ROOM] });
  });

  it('answers a bad request with the schema issues and changes nothing', () => {
    const ack = subscribe(membership, { devices: ['bad id!'] });
    expect(ack.ok).toBe(false);
    expect(ack.ok ? '' : ack.error).toMatch(/devices/);
    expect(rooms.size).toBe(0);
  });

  it(`refuses a subscription beyond ${MAX_ROOMS_PER_SOCKET} rooms per connection`, () => {
    const devices = Array.from({ length: MAX_ROOMS_PER_SOCKET }, (_, i) => `d${i}`);
    expect(subscribe(membership, { devices }).ok).toBe(true);
    const ack = subscribe(membership, { devices: ['one-more'] });
    expect(ack).toEqual({
      ok: false,
      error: `subscription would need ${MAX_ROOMS_PER_SOCKET + 1} rooms; at most ${MAX_ROOMS_PER_SOCKET} per connection`,
    });
  });

  it('leaves the rooms of an unsubscribe and acknowledges what is left', () => {
    subscribe(membership, { devices: ['d1', 'd2'], fleet: true, history: false });
    const ack = sut.unsubscribe(membership, { devices: ['d1'], fleet: true });
    expect(ack).toEqual({ ok: true, rooms: [deviceRoom('d2')] });
    expect(sut.unsubscribe(membership, { devices: 42 }).ok).toBe(false);
  });

  describe('with the live hub: identical subscribes of one flush generation', () => {
    const hub = { generation: 0 };
    let emptied: ((room: string) => void) | null = null;
    const emitter = {
      watchRooms: (_created: unknown, deleted: (room: string) => void) => (emptied = deleted),
    };
    let shared: LiveSubscriptionService;
    const ask = (request: object, scope: string[] | null = null) => {
      rooms = new Set();
      const ack = shared.subscribe(membership, request, scope);
      if (ack instanceof Promise || !ack.ok) throw new Error('expected a synchronous ok');
      return ack;
    };

    beforeEach(() => {
      hub.generation = 0;
      shared = new LiveSubscriptionService(
        { HISTORY_WINDOW_MS: 60_000 },
        registry,
        history,
        undefined,
        undefined,
        hub as unknown as LiveHubService,
        emitter as unknown as LiveEmitter,
      );
      feed('d1', 30, 'hall');
      feed('d2', 30, 'yard');
    });

    it('share one history encoded once, the same the service gives without the hub', () => {
      const first = ask({ fleet: true, maxPoints: 10 });
      const second = ask({ fleet: true, maxPoints: 10 });
      expect(first.history).toBeInstanceOf(RawJson);
      expect(second.history).toBe(first.history); // the same encoded text, not a copy
      expect(second.rooms).toEqual([FLEET_ROOM]); // each joined its own rooms
      const alone = subscribe(membership, { fleet: true, maxPoints: 10 });
      if (!alone.ok) throw new Error(alone.error);
      expect(JSON.parse((first.history as RawJson).json)).toEqual(alone.history);
      expect((first.history as RawJson).points).toBe(20);
      expect(shared.sharedSnapshots()).toEqual({ made: 1, reused: 1 });
    });

    it('take a new snapshot after a flush, or for anything asked differently', () => {
      const first = ask({ fleet: true, maxPoints: 10 });
      const different = [
        ask({ fleet: true, maxPoints: 11 }),
        ask({ fleet: true, maxPoints: 10, since: now - 5000 }),
        ask({ groups: ['hall'], maxPoints: 10 }),
        ask({ groups: ['hall'], maxPoints: 10 }, ['hall']),
      ];
      for (const ack of different) expect(ack.history).not.toBe(first.history);
      // Readings were written to rooms since: a socket joining now must not miss them.
      history.record('d1', [{ deviceId: 'd1', ts: now + 500, values: { t: 99 } }]);
      hub.generation++;
      const after = ask({ fleet: true, maxPoints: 100 });
      const again = ask({ fleet: true, maxPoints: 10 });
      expect(again.history).not.toBe(first.history);
      expect((after.history as RawJson).json).toContain(String(now + 500));
      expect(ask({ devices: ['d2', 'd1'], maxPoints: 10 }).history).toBe(
        ask({ devices: ['d2', 'd1'], maxPoints: 10 }).history,
      );
      expect(ask({ devices: ['d2', 'd1'], maxPoints: 10 }).history).not.toBe(
        ask({ devices: ['d1', 'd2'], maxPoints: 10 }).history,
      );
    });

    it('let go of every snapshot when a readings room empties: its readings were buffered nowhere', () => {
      const first = ask({ devices: ['d1'], maxPoints: 10 });
      emptied?.('Zx3socketid'); // a socket's own room: no readings were buffered for it
      expect(ask({ devices: ['d1'], maxPoints: 10 }).history).toBe(first.history);
      // The only screen on device:d1 leaves; a reading then comes with nobody to buffer it for.
      emptied?.(deviceRoom('d1'));
      history.record('d1', [{ deviceId: 'd1', ts: now + 700, values: { t: 7 } }]);
      const next = ask({ devices: ['d1'], maxPoints: 10 });
      expect(next.history).not.toBe(first.history);
      expect((next.history as RawJson).json).toContain(String(now + 700));
    });

    it('send time deltas to who asks, the same points, as a snapshot of their own', () => {
      const plain = ask({ fleet: true, maxPoints: 10 });
      const deltas = ask({ fleet: true, maxPoints: 10, timeDeltas: true });
      expect(deltas.history).not.toBe(plain.history); // another form: not the plain text
      expect(ask({ fleet: true, maxPoints: 10, timeDeltas: true }).history).toBe(deltas.history);
      const wire = JSON.parse((deltas.history as RawJson).json) as WireSeries[];
      expect(wire.every((series) => 'dt' in series && !('t' in series))).toBe(true);
      expect(wire.map(fromWire)).toEqual(JSON.parse((plain.history as RawJson).json));
      expect((deltas.history as RawJson).points).toBe(20);
      expect((deltas.history as RawJson).json.length).toBeLessThan(
        (plain.history as RawJson).json.length * 0.75,
      );
      // Without the hub (nothing shared), the same.
      const alone = subscribe(membership, { fleet: true, maxPoints: 10, timeDeltas: true });
      if (!alone.ok) throw new Error(alone.error);
      expect(alone.history).toEqual(wire);
    });

    it('start the default window on the second after it, inside the recent window', () => {
      const ack = ask({ fleet: true });
      const series = JSON.parse((ack.history as RawJson).json) as { t: number[] }[];
      const from = Math.ceil((ack.serverTime - 60_000) / 1000) * 1000;
      for (const { t } of series) expect(t[0]).toBeGreaterThanOrEqual(from);
    });
  });
});
