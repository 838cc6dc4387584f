import {
  BadRequestException,
  ConflictException,
  InternalServerErrorException,
  Logger,
  NotFoundException,
  PreconditionFailedException,
} from '@nestjs/common';
import { AlertEvent, AlertRule } from '@pulse/protocol';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AlertsSnapshot } from '../common/alerts-snapshot';
import { parsePreconditions } from '../common/preconditions';
import { StartupError } from '../config/config';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { LiveHubService } from '../live/live-hub.service';
import { DEFAULT_RULES, parseAlertRule } from './alert-rules.loader';
import { AlertsService, loadInitialAlertRules } from './alerts.service';
import { SqliteAlertStore } from './sqlite-alert.store';
import { ruleEtag } from './rule-etag';
import { Database } from '../store/database';
import { simulatedFleet } from '../simulator/simulator-identity';
import { hot } from './testing/alert-engine.harness';

/** `hot` at another level. */
const hotAt = (value: number) => ({ ...hot, value }) as AlertRule;
const cold = parseAlertRule({
  id: 'cold',
  kind: 'threshold',
  metric: 't',
  op: 'below',
  value: 0,
  severity: 'minor',
});

// Real engine and registry; the live hub is a fake that records what would be pushed.
describe('AlertsService', () => {
  let dir: string;
  let registry: DeviceRegistryService;
  let pushed: { alert: AlertEvent }[];
  const hub = {
    publishAlert: (alert: AlertEvent) => pushed.push({ alert }),
  } as unknown as LiveHubService;
  const create = (file?: string, rules: AlertRule[] = [hot]) =>
    new AlertsService({ ALERT_RULES_FILE: file }, rules, registry, hub);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-alerts-service-'));
    registry = new DeviceRegistryService({ MAX_DEVICES: 10 });
    pushed = [];
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    jest.restoreAllMocks();
  });

  it('pushes every lifecycle event (raise, acknowledge) to the hub', () => {
    const sut = create();
    registry.applyMeta('d1', { group: 'hall' }, 1);
    sut.onReadings([{ deviceId: 'd1', ts: Date.now(), values: { t: 31 } }]);
    expect(pushed).toEqual([
      {
        alert: expect.objectContaining({ deviceId: 'd1', state: 'raised' }),
      },
    ]);
    const id = pushed[0].alert.id;
    expect(sut.acknowledge(id, { by: 'ann' })).toMatchObject({ ok: true });
    expect(pushed[1].alert).toMatchObject({
      state: 'acknowledged',
      acknowledgedBy: 'ann',
    });
    expect(sut.stats()).toMatchObject({ rules: 1, active: 1, events: 2 });
  });

  it('moves the active list version when it releases alerts to another gateway (no event says so)', () => {
    const snapshot = new AlertsSnapshot();
    const sut = new AlertsService({}, [hot], registry, hub, null, snapshot);
    sut.onReadings([{ deviceId: 'd1', ts: Date.now(), values: { t: 31 } }]);
    const before = snapshot.version();
    const listed = snapshot.current(() => sut.activeEverywhere());
    expect(listed.alerts).toHaveLength(1);
    sut.release((deviceId) => deviceId === 'd1');
    expect(snapshot.version()).not.toBe(before);
    // The next read is the list without it, not the one built before.
    expect(snapshot.current(() => sut.activeEverywhere()).alerts).toEqual([]);
  });

  it('raises no offline alert for the simulated devices the gateway stops, and does for any other', () => {
    const gone = parseAlertRule({ id: 'gone', kind: 'offline', severity: 'critical' });
    const sut = create(undefined, [gone]);
    const raised = () => pushed.map(({ alert }) => `${alert.deviceId} ${alert.state}`);
    // During the run a simulated device that drops off (SIMULATOR_OFFLINE) is an incident.
    sut.onStatus('sim-001', 'offline', Date.now());
    expect(raised()).toEqual(['sim-001 raised']);

    sut.stoppingSimulator(simulatedFleet(12));
    for (const id of ['sim-002', 'sim-003', 'sim-012']) sut.onStatus(id, 'offline', Date.now());
    expect(raised()).toEqual(['sim-001 raised']);
    // Not of its fleet of 12 (another simulator's, or a device named so): an incident.
    sut.onStatus('sim-013', 'offline', Date.now());
    sut.onStatus('plug-1', 'offline', Date.now());
    expect(raised()).toEqual(['sim-001 raised', 'sim-013 raised', 'plug-1 raised']);
  });

  it('stopping without a simulator running leaves out no device named like a simulated one', () => {
    const gone = parseAlertRule({ id: 'gone', kind: 'offline', severity: 'critical' });
    const sut = create(undefined, [gone]);
    sut.stoppingSimulator(null);
    sut.onStatus('sim-002', 'offline', Date.now());
    expect(pushed.map(({ alert }) => alert.deviceId)).toEqual(['sim-002']);
  });

  it('writes HTTP rule changes to ALERT_RULES_FILE before applying them', async () => {
    const file = join(dir, 'rules.json');
    const sut = create(file);
    await sut.createRule(cold);
    expect(JSON.parse(readFileSync(file, 'utf8')).rules.map((r: AlertRule) => r.id)).toEqual([
      'hot',
      'cold',
    ]);
    await sut.replaceRule('cold', { ...cold, severity: 'info' });
    await sut.deleteRule('hot');
    expect(JSON.parse(readFileSync(file, 'utf8')).rules).toEqual([{ ...cold, severity: 'info' }]);
    expect(sut.rules()).toEqual([{ ...cold, severity: 'info' }]);
    expect(sut.stats().rulesSaved).toBe(3);
  });

  it('judges If-Match in the edit queue: of two saves made on the same read, the second is refused', async () => {
    const file = join(dir, 'rules.json');
    const sut = create(file);
    const read = parsePreconditions({ 'if-match': ruleEtag(hot) });
    // Sent together, as two admins pressing Save at once: the second is judged after the first.
    const [first, second] = await Promise.allSettled([
      sut.replaceRule('hot', hotAt(40), read),
      sut.replaceRule('hot', hotAt(50), read),
    ]);
    expect(first.status).toBe('fulfilled');
    expect(second).toMatchObject({
      status: 'rejected',
      reason: expect.any(PreconditionFailedException),
    });
    expect((second as PromiseRejectedResult).reason.getResponse()).toEqual({
      error: 'rule_changed',
      message: expect.stringContaining('alert rule "hot" changed after it was read'),
      rule: hotAt(40),
      etag: ruleEtag(hotAt(40)),
    });
    expect(sut.rules()).toEqual([hotAt(40)]);
    expect(JSON.parse(readFileSync(file, 'utf8')).rules).toEqual([hotAt(40)]);
    expect(sut.stats()).toMatchObject({ rulesSaved: 1, ruleConflicts: 1 });
  });

  it('says in a 412 rule_exists whether the rule sent is the one stored (same tag): a create sent twice', async () => {
    const sut = create();
    const createOnly = parsePreconditions({ 'if-none-match': '*' });
    const answer = async (rule: AlertRule) =>
      (
        (await sut
          .replaceRule('hot', rule, createOnly)
          .catch((e: unknown) => e)) as PreconditionFailedException
      ).getResponse();
    expect(await answer(hot)).toMatchObject({ error: 'rule_exists', same: true });
    // Every field the text had is the same; one it left out (a default) is not.
    expect(await answer({ ...hot, enabled: false } as AlertRule)).toMatchObject({
      error: 'rule_exists',
      same: false,
    });
  });

  it('creates with If-None-Match: * only a free id; deletes with If-Match only the rule as read', async () => {
    const sut = create();
    const createOnly = parsePreconditions({ 'if-none-match': '*' });
    await expect(sut.replaceRule('hot', hot, createOnly)).rejects.toThrow(
      PreconditionFailedException,
    );
    await sut.replaceRule('cold', cold, createOnly);
    await expect(
      sut.deleteRule('cold', parsePreconditions({ 'if-match': ruleEtag(hot) })),
    ).rejects.toThrow(PreconditionFailedException);
    await sut.deleteRule('cold', parsePreconditions({ 'if-match': ruleEtag(cold) }));
    expect(sut.rules().map((r) => r.id)).toEqual(['hot']);
    expect(sut.stats().ruleConflicts).toBe(2);
  });

  it('answers a delete of a rule that is not there 404, with If-Match or without (RFC 9110 §13.2.1)', async () => {
    const sut = create();
    const before = sut.stats().ruleConflicts;
    for (const when of [
      parsePreconditions({ 'if-match': ruleEtag(cold) }),
      parsePreconditions({ 'if-match': '*' }),
      parsePreconditions({}),
    ])
      await expect(sut.deleteRule('cold', when)).rejects.toThrow(NotFoundException);
    expect(sut.stats().ruleConflicts).toBe(before);
  });

  it('changes nothing when the file cannot be written', async () => {
    const sut = create(join(dir, 'missing-dir', 'rules.yaml'));
    await expect(sut.createRule(cold)).rejects.toThrow(InternalServerErrorException);
    expect(sut.rules().map((r) => r.id)).toEqual(['hot']);
  });

  it('keeps changes in memory without a file', async () => {
    const sut = create(undefined);
    await sut.createRule(cold);
    expect(sut.rules().map((r) => r.id)).toEqual(['hot', 'cold']);
    expect(sut.stats().rulesSaved).toBe(0);
  });

  it('two gateways changing rules at once end with the same set: the newest version wins on both', async () => {
    const [a, b] = [create(join(dir, 'a.json')), create(join(dir, 'b.json'))];
    // What each tells the other (the live layer passes it through Redis).
    const told = { a: [] as unknown[][], b: [] as unknown[][] };
    a.onRulesChanged((rules, version) => told.a.push([rules, version]));
    b.onRulesChanged((rules, version) => told.b.push([rules, version]));
    await a.createRule(cold);
    await b.deleteRule('hot');
    // Each hears the other's change after its own.
    const [fromA] = told.a;
    const [fromB] = told.b;
    const takenByB = await b.applyPeerRules(fromA[0], fromA[1]);
    const takenByA = await a.applyPeerRules(fromB[0], fromB[1]);
    expect([takenByA, takenByB].filter(Boolean)).toHaveLength(1);
    expect(a.rules()).toEqual(b.rules());
    // Each saved what it runs (its own file): a restart starts from the same set.
    for (const [sut, file] of [
      [a, 'a.json'],
      [b, 'b.json'],
    ] as const)
      expect(JSON.parse(readFileSync(join(dir, file), 'utf8')).rules).toEqual(sut.rules());
    const count = (key: 'rulesFromPeers' | 'rulesFromPeersOlder') =>
      (a.stats()[key] ?? 0) + (b.stats()[key] ?? 0);
    expect(count('rulesFromPeers')).toBe(1);
    expect(count('rulesFromPeersOlder')).toBe(1);
  });

  it("a gateway restarted with a clock behind its peer's: its next change still wins everywhere (the version is kept with the rules)", async () => {
    jest.useFakeTimers({ now: 1_800_000_000_000 });
    const databases: Database[] = [];
    const gateway = async (name: string) => {
      const database = new Database({ DATA_DIR: join(dir, name) });
      databases.push(database);
      const sut = new AlertsService({}, [hot], registry, hub, new SqliteAlertStore(database));
      await sut.onModuleInit();
      return sut;
    };
    try {
      const a = await gateway('a');
      let b = await gateway('b');
      // gw-a's clock is 2 min ahead: its change is stamped then, and gw-b takes it.
      jest.setSystemTime(1_800_000_120_000);
      await a.createRule(cold);
      const fromA = a.currentRulesVersion();
      jest.setSystemTime(1_800_000_000_000);
      expect(await b.applyPeerRules(a.rules(), fromA)).toBe(true);
      // gw-b restarts on its store: it starts from gw-a's set and version, not from zero.
      await b.close();
      b = await gateway('b');
      expect(b.currentRulesVersion()).toEqual(fromA);
      // An admin changes the rules on gw-b (its clock behind): gw-a takes the change.
      let toA: [AlertRule[], unknown] | null = null;
      b.onRulesChanged((rules, version) => (toA = [rules, version]));
      await b.deleteRule('hot');
      expect(await a.applyPeerRules(...(toA as unknown as [AlertRule[], unknown]))).toBe(true);
      expect(a.rules()).toEqual(b.rules());
      for (const sut of [a, b]) await sut.close();
    } finally {
      for (const database of databases) database.onApplicationShutdown();
      jest.useRealTimers();
    }
  });

  it('restores the stored rules through the schema: defaults added since they were saved are filled in, so the tag is the one every gateway computes', async () => {
    const database = new Database({ DATA_DIR: join(dir, 'restored') });
    try {
      // As a gateway of an older version saved it: no `enabled`, no `scope`, no `forMs`.
      const saved = { id: 'gone', kind: 'offline', severity: 'critical' };
      await new SqliteAlertStore(database).saveRules([saved as unknown as AlertRule]);
      const sut = new AlertsService({}, [hot], registry, hub, new SqliteAlertStore(database));
      await sut.onModuleInit();
      expect(sut.rules()).toEqual([parseAlertRule(saved)]);
      expect(ruleEtag(sut.rules()[0])).toBe(ruleEtag(parseAlertRule(saved)));
      await sut.close();
    } finally {
      database.onApplicationShutdown();
    }
  });

  describe('stored rules the schema refuses at boot (an upgrade tightened it)', () => {
    // As an older version saved it; `loud` is no severity this version knows.
    const stale = { id: 'x', kind: 'offline', severity: 'loud', forMs: 1000 };
    let database: Database;
    let store: SqliteAlertStore;
    const boot = async () => {
      const sut = new AlertsService({}, [hot], registry, hub, store);
      await sut.onModuleInit();
      return sut;
    };

    beforeEach(async () => {
      database = new Database({ DATA_DIR: join(dir, 'refused') });
      store = new SqliteAlertStore(database);
      await store.saveRules([cold, stale as unknown as AlertRule]);
    });
    afterEach(() => database.onApplicationShutdown());

    it('starts with the others running; each refused one logged at error level with path: message, counted, listed', async () => {
      const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      const sut = await boot();
      expect(sut.rules()).toEqual([cold]);
      expect(sut.stats().storedRulesRefused).toBe(1);
      expect(sut.refusedStoredRules()).toEqual([
        { id: 'x', issues: [expect.stringMatching(/^severity: /)] },
      ]);
      expect(errors).toHaveBeenCalledWith(
        expect.stringMatching(/stored alert rule "x" refused by the schema, not run.*severity: /),
      );
      await sut.close();
    });

    it('writes them back as saved with the next save of the set: an HTTP edit, a set from a peer', async () => {
      const sut = await boot();
      await sut.createRule(hot);
      expect(await store.loadRules()).toEqual([cold, hot, stale]);
      await sut.applyPeerRules([hot], { at: Date.now() + 1000, by: 'peer' });
      expect(await store.loadRules()).toEqual([hot, stale]);
      expect(sut.stats().storedRulesRefused).toBe(1);
      // And a restart still finds it, refused again: nothing was deleted on the way.
      await sut.close();
      const again = await boot();
      expect(again.refusedStoredRules().map((r) => r.id)).toEqual(['x']);
      await again.close();
    });

    it('drops one when a new rule of its id is saved: the new one wins, logged', async () => {
      const warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      const sut = await boot();
      const x = parseAlertRule({ id: 'x', kind: 'offline', severity: 'critical' });
      await sut.replaceRule('x', x, parsePreconditions({ 'if-none-match': '*' }));
      expect(await store.loadRules()).toEqual([cold, x]);
      expect(sut.stats().storedRulesRefused).toBe(0);
      expect(sut.refusedStoredRules()).toEqual([]);
      expect(warnings).toHaveBeenCalledWith(expect.stringContaining('stored alert rule "x"'));
      await sut.close();
    });

    it('keeps them when the save fails: the store still holds them', async () => {
      const sut = await boot();
      jest.spyOn(store, 'saveRules').mockRejectedValueOnce(new Error('connection refused'));
      await expect(sut.createRule({ ...hot, id: 'x' } as AlertRule)).rejects.toThrow();
      expect(sut.refusedStoredRules().map((r) => r.id)).toEqual(['x']);
      await sut.close();
    });
  });

  it("with a rules file, a peer's set is saved stamped with its version, not this clock's now (the file's time is its version at start)", async () => {
    const file = join(dir, 'rules.yaml');
    const sut = create(file);
    sut.onRulesChanged(() => undefined);
    const version = { at: Date.now() - 3_600_000, by: 'gw-x' };
    expect(await sut.applyPeerRules([cold], version)).toBe(true);
    expect(Math.abs(statSync(file).mtimeMs - version.at)).toBeLessThan(1_000);
    // Started again on that file: the set's version, so a newer peer set still wins.
    const again = create(file);
    again.onRulesChanged(() => undefined);
    expect(again.currentRulesVersion().at).toBe(Math.floor(statSync(file).mtimeMs));
    expect(await again.applyPeerRules([hot], { at: version.at + 1_000, by: 'gw-x' })).toBe(true);
  });

  it('leaves a peer rule set stamped more than a day ahead of this clock: it could never be beaten', async () => {
    const sut = create();
    sut.onRulesChanged(() => undefined);
    const ahead = { at: Date.now() + 2 * 24 * 3600_000, by: 'gw-x' };
    expect(await sut.applyPeerRules([cold], ahead)).toBe(false);
    expect(await sut.applyPeerRules([cold], { at: 1e300, by: 'gw-x' })).toBe(false);
    expect(sut.rules().map((r) => r.id)).toEqual(['hot']);
    expect(sut.stats()).toMatchObject({ rulesFromPeersInvalid: 2 });
  });

  it('leaves a peer rule set that does not validate, or whose version is not one, as it is', async () => {
    const sut = create();
    sut.onRulesChanged(() => undefined);
    const version = { at: Date.now() + 60_000, by: 'gw-x' };
    expect(await sut.applyPeerRules([{ ...hot, op: 'sideways' }], version)).toBe(false);
    expect(await sut.applyPeerRules([hot, hot], version)).toBe(false); // the id twice
    expect(await sut.applyPeerRules([cold], { at: 'soon', by: 'gw-x' })).toBe(false);
    expect(await sut.applyPeerRules({ rules: [cold] }, version)).toBe(false);
    expect(sut.rules().map((r) => r.id)).toEqual(['hot']);
    expect(sut.stats()).toMatchObject({ rulesFromPeers: 0, rulesFromPeersInvalid: 4 });
    expect(await sut.applyPeerRules([cold], version)).toBe(true);
    expect(sut.rules().map((r) => r.id)).toEqual(['cold']);
  });

  it('refuses duplicates, unknown ids and a body id that differs from the path', async () => {
    const sut = create();
    await expect(sut.createRule(hot)).rejects.toThrow(ConflictException);
    expect(() => sut.rule('nope')).toThrow(NotFoundException);
    await expect(sut.deleteRule('nope')).rejects.toThrow(NotFoundException);
    await expect(sut.replaceRule('hot', cold)).rejects.toThrow(BadRequestException);
    await expect(sut.replaceRule('cold', cold)).resolves.toEqual(cold); // PUT creates
  });

  it('a tick long overdue (the process did not run) judges no silence: what devices sent meanwhile comes next', async () => {
    jest.useFakeTimers({ now: 1_800_000_000_000 });
    try {
      const quiet = parseAlertRule({
        id: 'quiet',
        kind: 'nodata',
        silenceMs: 5_000,
        severity: 'major',
      });
      const sut = create(undefined, [quiet]);
      await sut.onModuleInit();
      sut.onReadings([{ deviceId: 'd1', ts: Date.now(), values: { t: 1 } }]);
      await jest.advanceTimersByTimeAsync(2_000);
      // Frozen for 20 s: the clocks jump, no timer ran meanwhile.
      const frozenFor = 20_000;
      const [now, monotonic] = [Date.now(), performance.now()];
      jest.setSystemTime(now + frozenFor);
      jest.spyOn(performance, 'now').mockImplementation(() => monotonic + frozenFor);
      await jest.advanceTimersByTimeAsync(1_000); // the overdue tick
      expect(sut.active()).toEqual([]);
      expect(sut.stats().lateTicks).toBe(1);
      // The device's queued reading comes right after: still not silent.
      sut.onReadings([{ deviceId: 'd1', ts: Date.now(), values: { t: 2 } }]);
      (performance.now as jest.Mock).mockImplementation(() => monotonic + frozenFor + 1_000);
      await jest.advanceTimersByTimeAsync(1_000);
      expect(sut.active()).toEqual([]);
      // Late again at once (a loop that lags all the time): judged this time, one skip in a row.
      const lagging = Date.now();
      jest.setSystemTime(lagging + frozenFor);
      (performance.now as jest.Mock).mockImplementation(() => monotonic + 2 * frozenFor + 2_000);
      await jest.advanceTimersByTimeAsync(1_000);
      (performance.now as jest.Mock).mockImplementation(() => monotonic + 3 * frozenFor + 3_000);
      jest.setSystemTime(Date.now() + frozenFor);
      await jest.advanceTimersByTimeAsync(1_000);
      expect(sut.stats().lateTicks).toBe(2);
      expect(sut.active()).toMatchObject([{ ruleId: 'quiet', deviceId: 'd1' }]);
      await sut.close();
    } finally {
      jest.useRealTimers();
    }
  });

  it('stops its timer when closed', async () => {
    jest.useFakeTimers();
    try {
      const sut = create();
      await sut.onModuleInit();
      expect(jest.getTimerCount()).toBe(1);
      await sut.close();
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('loadInitialAlertRules', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'pulse-initial-rules-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('uses DEFAULT_RULES without ALERT_RULES_FILE', () => {
    expect(loadInitialAlertRules({ ALERT_RULES_FILE: undefined })).toBe(DEFAULT_RULES);
  });

  it('turns a bad file into a StartupError listing path: message lines', () => {
    const file = join(dir, 'rules.yaml');
    writeFileSync(file, 'rules:\n  - id: x\n    kind: offline\n    severity: loud\n');
    expect(() => loadInitialAlertRules({ ALERT_RULES_FILE: file })).toThrow(StartupError);
    expect(() => loadInitialAlertRules({ ALERT_RULES_FILE: file })).toThrow(
      /^ALERT_RULES_FILE: invalid alert rules in .*rules\.yaml:\n {2}rules\.0\.severity: /,
    );
  });
});
