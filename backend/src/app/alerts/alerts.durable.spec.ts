import { Logger } from '@nestjs/common';
import { AlertEvent, AlertRule } from '@pulse/protocol';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { SqliteDeviceStore } from '../devices/sqlite-device.store';
import { LiveHubService } from '../live/live-hub.service';
import { Database } from '../store/database';
import { parseAlertRules } from './alert-rules.loader';
import { AlertsService, PeerAlertsLink } from './alerts.service';
import { SqliteAlertStore } from './sqlite-alert.store';

const [hot, gone, quiet, paced] = parseAlertRules(
  `rules:
  - { id: hot, kind: threshold, metric: t, op: above, value: 30, clear: 28, severity: major }
  - { id: gone, kind: offline, forMs: 0, severity: critical }
  - { id: quiet, kind: nodata, silenceMs: 5000, severity: minor }
  - { id: paced, kind: nodata, cadenceMultiple: 3, silenceMs: 10000, severity: minor }`,
  'yaml',
);

// Real: the alert engine, the registry and their SQLite stores in a temp DATA_DIR; a "restart"
// is a new registry and service (and connection) on the same file. The live hub is a fake
// that records what would be pushed.
describe('AlertsService across restarts', () => {
  let dir: string;
  let pushed: AlertEvent[];
  const open: { database: Database; sut: AlertsService; registry: DeviceRegistryService }[] = [];
  const hub = {
    publishAlert: (alert: AlertEvent) => pushed.push(alert),
  } as unknown as LiveHubService;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-alerts-durable-'));
    pushed = [];
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    jest.useRealTimers();
    for (const { database, sut } of open.splice(0)) {
      await sut.close();
      database.onApplicationShutdown();
    }
    rmSync(dir, { recursive: true, force: true });
    jest.restoreAllMocks();
  });

  /**
   * Boot on the data in `dir` (without shutting the previous one down: as after a crash); with
   * `peers`, as one of several gateways (the live layer links them before the restore). Returns
   * what the restore announced as this engine's events too.
   */
  async function boot(
    rules: AlertRule[] = [hot],
    rulesFile?: string,
    simulator = 'off',
    peers?: PeerAlertsLink,
  ) {
    const database = new Database({ DATA_DIR: dir });
    const registry = new DeviceRegistryService(
      { MAX_DEVICES: 10 },
      new SqliteDeviceStore(database),
    );
    const sut = new AlertsService(
      {
        ALERT_RULES_FILE: rulesFile,
        SIMULATOR: simulator === 'on' ? 'on' : 'off',
        SIMULATOR_DEVICES: 12,
      },
      rules,
      registry,
      hub,
      new SqliteAlertStore(database),
    );
    if (peers) sut.withPeers(peers);
    await registry.onModuleInit();
    pushed = [];
    await sut.onModuleInit();
    open.push({ database, sut, registry });
    const announced = pushed;
    pushed = [];
    return { sut, registry, announced };
  }

  const t = (value: number) => [{ deviceId: 'd1', ts: Date.now(), values: { t: value } }];

  it('keeps the active list and its acknowledgement, and raises no second alert for the episode', async () => {
    const first = await boot();
    first.registry.applyReadings('d1', t(35), Date.now());
    first.sut.onReadings(t(35));
    const [raised] = first.sut.active();
    // Acknowledged: saved at once (no flush tick needed before the crash).
    expect(first.sut.acknowledge(raised.id, { by: 'ann', note: 'on it' })).toMatchObject({
      ok: true,
    });
    const before = first.sut.active();
    const historyBefore = first.sut.history({ limit: 100 });

    const second = await boot();

    expect(second.sut.active()).toEqual(before);
    expect(before[0]).toMatchObject({ state: 'acknowledged', acknowledgedBy: 'ann' });
    expect(second.sut.history({ limit: 100 })).toEqual(historyBefore);
    // Still over the threshold: the same episode, nothing new.
    second.sut.onReadings(t(36));
    expect(pushed).toEqual([]);
    expect(second.sut.active()).toHaveLength(1);
    // Back under the clear level: the restored alert clears (acknowledged, so it closes).
    second.sut.onReadings(t(20));
    expect(pushed).toEqual([
      expect.objectContaining({ id: raised.id, state: 'cleared', active: false, count: 1 }),
    ]);
    expect(second.sut.active()).toEqual([]);

    // The close was saved with the next tick's write: a third start has nothing active.
    await second.sut.close();
    expect((await boot()).sut.active()).toEqual([]);
  });

  it("with several gateways, the open list restored at boot (every gateway's) seeds the peers' open alerts, not this engine's events", async () => {
    const first = await boot();
    first.sut.onReadings(t(35));
    const [raised] = first.sut.active();
    expect(first.sut.acknowledge(raised.id, { by: 'ann' })).toMatchObject({ ok: true });
    const [acked] = first.sut.active();
    // With one gateway the fleet summary learns the restored list from the restore's events.
    expect((await boot()).announced).toEqual([acked]);

    const seeded: AlertEvent[][] = [];
    const peers: PeerAlertsLink = {
      add: (local) => local,
      seed: (alerts) => void seeded.push([...alerts]),
    };
    const second = await boot([hot], undefined, 'off', peers);
    // Another gateway may own the device: the engine does not announce it as its own (its
    // hand-over announces what it owns), the peers' list starts from the store's.
    expect(second.announced).toEqual([]);
    expect(seeded).toEqual([[acked]]);
    expect(second.sut.active()).toEqual([acked]);
  });

  it('an alert raised a second before a crash is restored (written on the tick)', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    try {
      const first = await boot();
      first.sut.onReadings(t(40));
      jest.advanceTimersByTime(1000);
      const restored = (await boot()).sut.active();
      expect(restored).toEqual([expect.objectContaining({ state: 'raised', value: 40 })]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('an alert stored before alert events carried their kind is restored with it and carried on', async () => {
    const first = await boot([hot, gone]);
    first.sut.onReadings(t(35));
    first.sut.onStatus('d9', 'offline', Date.now());
    await first.sut.close();
    // As a gateway from before AlertEvent.kind left the file.
    open[0].database.db.exec(`
      UPDATE alert_open SET event = json_remove(event, '$.kind');
      UPDATE alert_events SET event = json_remove(event, '$.kind');
    `);

    // The offline rule removed while down: its alert clears with the reason, an offline alert still.
    const second = await boot([hot]);
    const kinds = (alerts: AlertEvent[]) => alerts.map((a) => [a.ruleId, a.state, a.kind]);
    expect(kinds(second.sut.active())).toEqual([
      ['gone', 'cleared', 'offline'],
      ['hot', 'raised', 'threshold'],
    ]);
    expect(kinds(second.sut.history({ limit: 100 }))).toEqual([
      ['gone', 'cleared', 'offline'],
      ['gone', 'raised', 'offline'],
      ['hot', 'raised', 'threshold'],
    ]);
    // The threshold alert is the same episode: it clears on its rule, kind and all.
    second.sut.onReadings(t(20));
    expect(pushed).toEqual([
      expect.objectContaining({ ruleId: 'hot', state: 'cleared', kind: 'threshold' }),
    ]);
  });

  it('keeps rules edited over HTTP (no ALERT_RULES_FILE); a rules file wins over them', async () => {
    const first = await boot();
    await first.sut.createRule({ ...hot, id: 'warm', value: 25, clear: 23 } as AlertRule);
    await first.sut.deleteRule('hot');
    expect((await boot()).sut.rules().map((r) => r.id)).toEqual(['warm']);

    const file = join(dir, 'rules.json');
    writeFileSync(file, JSON.stringify({ rules: [hot] }));
    expect((await boot([hot], file)).sut.rules().map((r) => r.id)).toEqual(['hot']);
  });

  it('a restored alert whose rule was removed while down clears with the reason', async () => {
    const first = await boot();
    first.sut.onReadings(t(35));
    await first.sut.close();
    const second = await boot([]);
    expect(second.sut.active()).toEqual([
      expect.objectContaining({
        state: 'cleared',
        message: expect.stringContaining('rule changed or removed while the gateway was down'),
      }),
    ]);
  });

  it('a device that never speaks again after the restart still raises no-data', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    try {
      const first = await boot([quiet]);
      first.registry.applyReadings('d1', t(20), Date.now());
      first.sut.onReadings(t(20));
      await first.registry.close();

      const second = await boot([quiet]);
      jest.advanceTimersByTime(4000);
      expect(second.sut.active()).toEqual([]);
      jest.advanceTimersByTime(2000);
      expect(second.sut.active()).toEqual([
        expect.objectContaining({ deviceId: 'd1', ruleId: 'quiet', state: 'raised' }),
      ]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('a device that reports every 5 minutes is judged by its pace after a restart, not at the floor', async () => {
    // The built-in no-data rule's shape: 3 × the device's pace, at least 10 s. A Tasmota plug
    // reports every 300 s; before, every such device raised "No data" 10 s after each restart.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    try {
      const first = await boot([paced]);
      const report = (at: number) => {
        const readings = [{ deviceId: 'plug-7', ts: at, values: { power: 45 } }];
        first.registry.applyReadings('plug-7', readings, at);
        first.sut.onReadings(readings);
      };
      const start = Date.now();
      for (let i = 0; i < 4; i++) report(start - (3 - i) * 300_000);
      await first.registry.close(); // written, as the next flush would

      const second = await boot([paced]);
      expect(second.registry.paceOf('plug-7')).toBe(300_000);
      jest.advanceTimersByTime(60_000);
      expect(second.sut.active()).toEqual([]);
      // Silent for 3 paces from the boot: it is found all the same.
      jest.advanceTimersByTime(900_000 - 60_000 + 2_000);
      expect(second.sut.active()).toEqual([
        expect.objectContaining({ deviceId: 'plug-7', ruleId: 'paced', state: 'raised' }),
      ]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('a device heard once before a restart and not since is judged as heard once: at 2 h, not 10 s after the boot', async () => {
    // An event-driven sensor (a zigbee2mqtt contact, a button) reported once: no pace. Before,
    // every restart raised "No data" for each such device 10 s after the boot (found by a QA
    // pass); without the restart it would have waited 2 h, as it does now.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    try {
      const first = await boot([paced]);
      const readings = [{ deviceId: 'door-2', ts: Date.now(), values: { contact: 1 } }];
      first.registry.applyReadings('door-2', readings, Date.now());
      first.sut.onReadings(readings);
      await first.registry.close();

      const second = await boot([paced]);
      expect(second.registry.paceOf('door-2')).toBeNull();
      jest.advanceTimersByTime(60_000);
      expect(second.sut.active()).toEqual([]);
      // Dead all the same: found 2 h after the boot (its silence counts from the restore).
      jest.advanceTimersByTime(7_200_000 - 60_000 + 2_000);
      expect(second.sut.active()).toEqual([
        expect.objectContaining({
          deviceId: 'door-2',
          ruleId: 'paced',
          state: 'raised',
          threshold: 7_200_000,
        }),
      ]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('a device restored without a pace and heard once after the restart is judged by that interval, as without the restart', async () => {
    // Installed just before an upgrade: one report, so the registry kept no pace for it. One
    // report 5 s after the boot, then dead: two reports 5 s apart, the restart or not, so it is
    // judged at 3 × 5 s (its first report's time was kept: before, the restart forgot it and
    // this device waited 2 h).
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    try {
      const report = ({
        registry,
        sut,
      }: {
        registry: DeviceRegistryService;
        sut: AlertsService;
      }) => {
        const readings = [{ deviceId: 'th-3', ts: Date.now(), values: { t: 21 } }];
        registry.applyReadings('th-3', readings, Date.now());
        sut.onReadings(readings);
      };
      const first = await boot([paced]);
      report(first);
      await first.registry.close();

      const second = await boot([paced]);
      expect(second.registry.paceOf('th-3')).toBeNull();
      jest.advanceTimersByTime(5_000);
      report(second);
      jest.advanceTimersByTime(15_000 - 1_000);
      expect(second.sut.active()).toEqual([]);
      jest.advanceTimersByTime(2_000);
      expect(second.sut.active()).toEqual([
        expect.objectContaining({
          deviceId: 'th-3',
          ruleId: 'paced',
          state: 'raised',
          threshold: 15_000,
        }),
      ]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('an offline device restored offline clears its restored alert when it comes back', async () => {
    const first = await boot([gone]);
    first.registry.applyStatus('d9', 'offline', Date.now());
    first.sut.onStatus('d9', 'offline', Date.now());
    expect(first.sut.active()).toEqual([expect.objectContaining({ deviceId: 'd9' })]);
    await first.sut.close();
    await first.registry.close();

    const second = await boot([gone]);
    expect(second.sut.active()).toEqual([expect.objectContaining({ state: 'raised' })]);
    expect(pushed).toEqual([]); // restored, not raised again
    second.sut.onStatus('d9', 'online', Date.now());
    expect(pushed).toEqual([expect.objectContaining({ deviceId: 'd9', state: 'cleared' })]);
  });

  it('a simulated device restored offline raises nothing until it speaks again', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    try {
      // As a clean stop leaves them: the gateway stopped its simulator, each device said offline.
      const first = await boot([gone, quiet], undefined, 'on');
      const now = Date.now();
      first.registry.applyReadings(
        'sim-001',
        [{ deviceId: 'sim-001', ts: now, values: { t: 20 } }],
        now,
      );
      first.registry.applyStatus('sim-001', 'offline', Date.now());
      await first.registry.close();

      const second = await boot([gone, quiet], undefined, 'on');
      jest.advanceTimersByTime(60_000);
      expect(second.sut.active()).toEqual([]);
      expect(second.registry.get('sim-001')?.status).toBe('offline');
      // Started again, then gone on its own: watched as any device.
      second.sut.onStatus('sim-001', 'online', Date.now());
      second.sut.onStatus('sim-001', 'offline', Date.now());
      expect(second.sut.active()).toEqual([
        expect.objectContaining({ deviceId: 'sim-001', ruleId: 'gone', state: 'raised' }),
      ]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('restarted with SIMULATOR=off, a simulated device left offline is watched as any device', async () => {
    const first = await boot([gone], undefined, 'on');
    const now = Date.now();
    first.registry.applyReadings(
      'sim-001',
      [{ deviceId: 'sim-001', ts: now, values: { t: 20 } }],
      now,
    );
    first.registry.applyStatus('sim-001', 'offline', now);
    await first.registry.close();
    // Nothing will bring it back: its offline is an incident now.
    const second = await boot([gone], undefined, 'off');
    expect(second.sut.active()).toEqual([
      expect.objectContaining({ deviceId: 'sim-001', ruleId: 'gone' }),
    ]);
  });
});
