import { Logger } from '@nestjs/common';
import type { AlertEvent, Reading } from '@pulse/protocol';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAlertRules } from '../alerts/alert-rules.loader';
import { AlertsService } from '../alerts/alerts.service';
import { SqliteAlertStore } from '../alerts/sqlite-alert.store';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { SqliteDeviceStore } from '../devices/sqlite-device.store';
import { Database } from '../store/database';
import { AlertRouting, HANDOVER_MS, HANDOVER_WINDOW_MS } from './alert-routing.service';
import { DeviceOwnership } from './device-ownership.service';
import { ForwardMessage } from './forward-queue';
import { OwnershipRedis } from './ownership-redis.repository';
import { ownerOf } from './rendezvous';

const rules = parseAlertRules(
  `rules:
  - { id: hot, kind: threshold, metric: t, op: above, value: 30, clear: 28, severity: major }
  - { id: gone, kind: offline, forMs: 0, severity: critical }`,
  'yaml',
);
const FLUSH_MS = 50;

/** A device owned by `first` among [gw-a, gw-b] and by `then` among `thenMembers`. */
function deviceMoving(first: string, thenMembers: string[], then: string): string {
  for (let i = 0; ; i++) {
    const id = `dev-${i}`;
    if (ownerOf(id, ['gw-a', 'gw-b']) === first && ownerOf(id, thenMembers) === then) return id;
  }
}

// Real: the alert engine, the registry, their SQLite stores (one file stands for the shared
// alert store), DeviceOwnership and AlertRouting. Redis is a fake at OwnershipRedis's boundary
// (member list in, published messages out); the end-to-end path is device-ownership.spec.ts.
describe('AlertRouting (gateway gw-a)', () => {
  let dir: string;
  let database: Database;
  let members: string[];
  /** Redis cannot be reached: every heartbeat fails. */
  let redisDown = false;
  /** The next heartbeat finds the lease gone and takes it again (it lapsed meanwhile). */
  let leaseLapsed = false;
  /** Heartbeats wait for this before Redis answers them (a reply in flight). */
  let held: { promise: Promise<void>; release: () => void } | null = null;
  let published: { owner: string; message: ForwardMessage }[];
  let deliver: (raw: Buffer) => void;
  let registry: DeviceRegistryService;
  let alerts: AlertsService;
  let ownership: DeviceOwnership;
  let routing: AlertRouting;
  const services: AlertsService[] = [];

  const redis = {
    enabled: true,
    whenReady: async () => undefined,
    heartbeat: async () => {
      if (held) await held.promise;
      if (redisDown) throw new Error('connect ECONNREFUSED');
      const renewed = !leaseLapsed;
      leaseLapsed = false;
      return { held: true, renewed, members };
    },
    leave: async () => undefined,
    forward: async (owner: string, raw: Buffer) => {
      published.push({ owner, message: JSON.parse(raw.toString('utf8')) as ForwardMessage });
      return 1;
    },
    listen: (_id: string, handler: (raw: Buffer) => void) => (deliver = handler),
    report: () => undefined,
  } as unknown as OwnershipRedis;
  const hub = { publishAlert: () => undefined };

  async function alertsService(): Promise<AlertsService> {
    const sut = new AlertsService({}, rules, registry, hub, new SqliteAlertStore(database));
    await sut.onModuleInit();
    services.push(sut);
    return sut;
  }

  /** The member list Redis returns from now; gw-a's next heartbeat sees it. */
  async function membersNow(list: string[]): Promise<void> {
    members = list;
    await (ownership as unknown as { beat(): Promise<void> }).beat();
  }

  const hot = (deviceId: string): Reading[] => [{ deviceId, ts: Date.now(), values: { t: 40 } }];
  const stored = () => new SqliteAlertStore(database).loadHistory(100);
  const raisedFor = (events: AlertEvent[], deviceId: string) =>
    events.filter((e) => e.deviceId === deviceId && e.state === 'raised');

  beforeEach(async () => {
    jest.useFakeTimers({ now: 1_700_000_000_000 });
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    dir = mkdtempSync(join(tmpdir(), 'pulse-alert-routing-'));
    database = new Database({ DATA_DIR: dir });
    registry = new DeviceRegistryService({ MAX_DEVICES: 100 }, new SqliteDeviceStore(database));
    await registry.onModuleInit();
    published = [];
    alerts = await alertsService();
    ownership = new DeviceOwnership({ GATEWAY_ID: 'gw-a', PORT: 0 }, redis);
    routing = new AlertRouting({ FLUSH_MS }, ownership, redis, alerts, registry);
    members = ['gw-a', 'gw-b'];
    redisDown = leaseLapsed = false;
    held = null;
    await ownership.onModuleInit(); // its heartbeat runs, as in the gateway
    await membersNow(['gw-a', 'gw-b']);
    await jest.advanceTimersByTimeAsync(HANDOVER_MS + 100); // boot's hand-over
  });

  afterEach(async () => {
    await ownership.beforeApplicationShutdown();
    routing.onApplicationShutdown();
    for (const sut of services.splice(0)) await sut.close();
    database.onApplicationShutdown();
    jest.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
    jest.restoreAllMocks();
  });

  it('sends the waiting readings of a device it loses to the new owner, not to its own engine', async () => {
    const id = deviceMoving('gw-a', ['gw-a', 'gw-b', 'gw-c'], 'gw-c');
    routing.onReadings(hot(id)); // waits FLUSH_MS + 100 ms for time order
    await membersNow(['gw-a', 'gw-b', 'gw-c']); // gw-c joins and wins the device
    await jest.advanceTimersByTimeAsync(FLUSH_MS * 4);
    // Evaluated here, with no state left, it would raise an alert that nobody ever clears.
    expect(alerts.active()).toEqual([]);
    expect(published.filter((p) => p.owner === 'gw-c').flatMap((p) => p.message.r)).toEqual(
      hot(id).map((r) => ({ ...r, ts: expect.any(Number) })),
    );
  });

  it('holds back the status of a gained device until its open alerts are loaded', async () => {
    const id = deviceMoving('gw-b', ['gw-a'], 'gw-a');
    // gw-b, the owner, raises the offline alert and writes it at once to the shared store.
    const previous = await alertsService();
    previous.saveEventsAtOnce();
    registry.applyStatus(id, 'offline', Date.now());
    previous.onStatus(id, 'offline', Date.now());
    const [theirs] = previous.active();
    await jest.advanceTimersByTimeAsync(10);
    await membersNow(['gw-a']); // gw-b dies: gw-a gains the device
    routing.onStatus(id, 'offline', Date.now()); // its Last Will, heard during the hand-over
    await jest.advanceTimersByTimeAsync(HANDOVER_MS + 100);
    expect(alerts.active().map((a) => [a.id, a.ruleId])).toEqual([[theirs.id, 'gone']]);
    expect(raisedFor(await stored(), id)).toHaveLength(1);
  });

  it('clears the previous owner’s offline alert when the device came back during the hand-over', async () => {
    const id = deviceMoving('gw-b', ['gw-a'], 'gw-a');
    const previous = await alertsService();
    previous.saveEventsAtOnce();
    previous.onStatus(id, 'offline', Date.now());
    const [theirs] = previous.active();
    await jest.advanceTimersByTimeAsync(10);
    await membersNow(['gw-a']);
    registry.applyStatus(id, 'online', Date.now());
    routing.onStatus(id, 'online', Date.now()); // held back; the registry keeps it
    await jest.advanceTimersByTimeAsync(HANDOVER_MS + 100);
    // The same episode, cleared (it stays on the active list until acknowledged).
    expect(alerts.active().map((a) => [a.id, a.state])).toEqual([[theirs.id, 'cleared']]);
  });

  it('says alerts may be between holders from a membership change until the new owners have loaded them', async () => {
    await jest.advanceTimersByTimeAsync(HANDOVER_WINDOW_MS); // boot's hand-over is over
    expect(routing.inHandOver()).toBe(false);
    await membersNow(['gw-a', 'gw-b', 'gw-c']); // gw-a lets devices go to gw-c
    expect(routing.inHandOver()).toBe(true);
    // gw-c sees the change up to a heartbeat later and loads them HANDOVER_MS after that.
    await jest.advanceTimersByTimeAsync(HANDOVER_WINDOW_MS - 100);
    expect(routing.inHandOver()).toBe(true);
    await jest.advanceTimersByTimeAsync(200);
    expect(routing.inHandOver()).toBe(false);
  });

  it('goes on evaluating its devices while Redis cannot be reached, and takes them back as a hand-over when it finds its lease lapsed', async () => {
    await jest.advanceTimersByTimeAsync(HANDOVER_WINDOW_MS);
    const id = deviceMoving('gw-a', ['gw-a'], 'gw-a');
    redisDown = true;
    await jest.advanceTimersByTimeAsync(5_000); // longer than the lease
    // The member list stays as last read: gw-a still evaluates what it owns.
    expect(ownership.currentMembers()).toEqual(['gw-a', 'gw-b']);
    routing.onReadings(hot(id));
    await jest.advanceTimersByTimeAsync(FLUSH_MS * 4);
    const [raised] = alerts.active();
    expect(raised).toMatchObject({ deviceId: id, state: 'raised' });
    expect(ownership.stats().lapses).toBe(0);
    // Redis back: the lease had lapsed there (the others may have taken the devices): gw-a
    // leaves and joins again, and loads its devices' open alerts from the store.
    redisDown = false;
    leaseLapsed = true;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(ownership.stats()).toMatchObject({ lapses: 1, members: 2, member: true });
    expect(routing.stats()).toMatchObject({ handingOver: true });
    await jest.advanceTimersByTimeAsync(HANDOVER_MS + 100);
    expect(alerts.active().map((a) => [a.id, a.state])).toEqual([[raised.id, 'raised']]);
    expect(raisedFor(await stored(), id)).toHaveLength(1);
  });

  it('a gateway that did not run for longer than its lease leaves before it evaluates what waited', async () => {
    await jest.advanceTimersByTimeAsync(HANDOVER_WINDOW_MS);
    const id = deviceMoving('gw-a', ['gw-a'], 'gw-a');
    routing.onReadings(hot(id)); // waiting for its flush tick when the process froze
    ownership.checkFrozen(performance.now() + 5_000);
    expect(ownership.currentMembers()).toEqual(['gw-b']);
    expect(ownership.stats().lapses).toBe(1);
    // Not evaluated here with stale state: handed to the owner of the moment.
    await jest.advanceTimersByTimeAsync(FLUSH_MS * 2);
    expect(alerts.active()).toEqual([]);
    expect(published.filter((p) => p.owner === 'gw-b').flatMap((p) => p.message.r)).toHaveLength(1);
  });

  it('a heartbeat answer in flight across a lapse does not bring the gateway back as it was', async () => {
    await jest.advanceTimersByTimeAsync(HANDOVER_WINDOW_MS);
    let release = () => undefined as void;
    held = { promise: new Promise<void>((resolve) => (release = resolve)), release };
    await jest.advanceTimersByTimeAsync(1_000); // a heartbeat goes out; its answer waits
    ownership.checkFrozen(performance.now() + 5_000); // the loop was blocked meanwhile
    expect(ownership.currentMembers()).toEqual(['gw-b']);
    held = null;
    release(); // the old answer: a member, renewed, as before the pause
    await jest.advanceTimersByTimeAsync(0);
    expect(ownership.currentMembers()).toEqual(['gw-b']);
    // The next heartbeat, sent after the lapse, brings it back (as a hand-over).
    await jest.advanceTimersByTimeAsync(1_000);
    expect(ownership.currentMembers()).toEqual(['gw-a', 'gw-b']);
    expect(routing.stats()).toMatchObject({ handingOver: true });
  });

  it('drops (counted) readings passed on already when it does not own them either', async () => {
    const id = deviceMoving('gw-b', ['gw-a', 'gw-b'], 'gw-b');
    const message = (h: 0 | 1) => Buffer.from(JSON.stringify({ v: 1, g: 'gw-c', h, r: hot(id) }));
    deliver(message(1));
    deliver(message(0)); // first hop: passed on once to gw-b
    deliver(Buffer.from(JSON.stringify({ v: 2, g: 'gw-c', h: 0, r: [] })));
    await jest.advanceTimersByTimeAsync(FLUSH_MS * 4);
    expect(alerts.active()).toEqual([]);
    expect(published.map((p) => [p.owner, p.message.h, p.message.r.length])).toEqual([
      ['gw-b', 1, 1],
    ]);
    expect(routing.stats()).toMatchObject({ passedDropped: 1, passedOn: 1, refused: 1 });
  });
});
