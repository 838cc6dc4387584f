import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  InternalServerErrorException,
  ServiceUnavailableException,
  Logger,
  NotFoundException,
  OnModuleInit,
  Optional,
  PreconditionFailedException,
} from '@nestjs/common';
import {
  ALERT_LIMITS,
  AckResponse,
  AlertEvent,
  AlertQuery,
  AlertRule,
  AlertStats,
  quote,
  Reading,
  RefusedStoredRule,
  RuleConflictResponse,
  RulesVersion,
} from '@pulse/protocol';
import { randomUUID } from 'node:crypto';
import { statSync, utimesSync } from 'node:fs';
import { inScope } from '../auth/principal';
import { AlertsSnapshot } from '../common/alerts-snapshot';
import { LIVE_PUBLISHER, LivePublisher } from '../common/live-publisher';
import { failedPrecondition, NO_PRECONDITIONS, Preconditions } from '../common/preconditions';
import { RateLimitedLog } from '../common/rate-limited-log';
import { CONFIG, Config, StartupError } from '../config/config';
import { DeviceGone, DeviceRegistryService } from '../devices/device-registry.service';
import { simulatedFleet } from '../simulator/simulator-identity';
import { AlertEngine, GONE_REASONS, GroupLookup } from './alert-engine';
import { byActiveOrder } from './alert-lifecycle';
import { AlertJournal } from './alert-journal';
import { ALERT_STORE, AlertStore } from './alert-store';
import {
  AlertRulesError,
  DEFAULT_RULES,
  loadAlertRulesFile,
  parseAlertRules,
  RefusedRule,
  saveAlertRulesFile,
  storedRuleSet,
} from './alert-rules.loader';
import { ruleEtag } from './rule-etag';

/** DI token of the rules loaded at boot (see {@link loadInitialAlertRules}). */
export const INITIAL_ALERT_RULES = Symbol('INITIAL_ALERT_RULES');

/** How often the engine's timers run (no-data, offline, durations between readings); the lifecycle is written to the store at the same pace. */
export const ALERT_TICK_MS = 1000;
/**
 * A tick this late (three periods) finds a process that did not run: no-data and timed rules are
 * not judged on it (see onModuleInit).
 */
export const LATE_TICK_MS = 3 * ALERT_TICK_MS;
/** A peer's rule set stamped further ahead of this gateway's clock is refused as invalid. */
export const MAX_RULES_CLOCK_AHEAD_MS = 24 * 60 * 60 * 1000;

/** Lifecycle events kept (in memory and in the store). */
export const ALERT_HISTORY_KEPT = 10_000;

/**
 * The rules to start with: ALERT_RULES_FILE when set, else {@link DEFAULT_RULES}. Called by
 * `startPulse` before anything listens, so a bad file stops the boot with every bad rule
 * listed as `path: message` (a {@link StartupError}, printed without a stack trace).
 */
export function loadInitialAlertRules(config: Pick<Config, 'ALERT_RULES_FILE'>): AlertRule[] {
  if (config.ALERT_RULES_FILE === undefined) return DEFAULT_RULES;
  try {
    return loadAlertRulesFile(config.ALERT_RULES_FILE);
  } catch (error) {
    if (error instanceof AlertRulesError) {
      throw new StartupError(
        `ALERT_RULES_FILE: invalid alert rules in ${error.source}:\n${error.issues
          .map((line) => `  ${line}`)
          .join('\n')}`,
      );
    }
    throw error;
  }
}

/** Refused stored rules logged one line each at boot; the rest are summed up in one line. */
export const REFUSED_RULES_LOGGED = 10;

/**
 * The live layer's view of the other gateways' open alerts (several gateways, REDIS_URL;
 * live/peer-alerts.ts), handed to {@link AlertsService.withPeers} by the live gateway.
 */
export interface PeerAlertsLink {
  /** `local` (this gateway's open alerts) plus the peers' that are not among them. */
  add(local: AlertEvent[]): AlertEvent[];
  /**
   * Boot: the shared store's open list as it was restored, every gateway's. The peers' open
   * alerts start from it; events seen since the live layer was bound win over it.
   */
  seed(open: readonly AlertEvent[]): void;
}

/**
 * Owns the alert engine: feeds it from ingest (readings, status), drives its timers, pushes
 * every lifecycle event to the live hub, and serves the alert and rule API. Rule changes
 * over HTTP are written back to ALERT_RULES_FILE when it is set, otherwise to the
 * {@link AlertStore} (before they take effect, so the saved rules and the engine never
 * disagree; no store, as in unit tests: memory only).
 *
 * Durable (issue 13, decision 0022): with a store, the rules saved over HTTP, the active list
 * (acknowledgements included) and the lifecycle history are loaded at boot, and every event
 * is written through an {@link AlertJournal} once a second (at once after an acknowledgement),
 * and what is left once the ingest stopped ({@link close}). A restored alert is the same
 * episode: it is not raised again while its condition holds. Stopping the gateway is no incident
 * of the devices its built-in simulator runs: their `offline` as it stops them raises nothing,
 * then or after the restart ({@link stoppingSimulator}).
 * Events go out through the {@link LivePublisher} port: this folder must not import `live/`
 * (the live layer calls into it for `ack` and the `alerts` snapshot).
 */
@Injectable()
export class AlertsService implements OnModuleInit {
  private readonly logger = new Logger('Alerts');
  private readonly engine: AlertEngine;
  private readonly rulesFile: string | undefined;
  private readonly journal: AlertJournal | null = null;
  private readonly storeLog = new RateLimitedLog((line) => this.logger.error(line));
  private rulesFrom: string;
  private droppedReported = 0;
  /** Rule edits, one after the other (each reads the set the previous one left). */
  private edits: Promise<unknown> = Promise.resolve();
  private timer: ReturnType<typeof setInterval> | null = null;
  private rulesSaved = 0;
  /** Rule writes refused 412 (their If-Match / If-None-Match failed). */
  private ruleConflicts = 0;
  /** When the timer last ticked (monotonic ms), and ticks skipped as long overdue. */
  private lastTickAt = performance.now();
  private lateTicks = 0;
  private skippedLast = false;
  /** The version of the rules the engine runs: several gateways take the newest (applyPeerRules). */
  private rulesVersion: RulesVersion = { at: 0, by: '' };
  /** This run's id in rule versions (ties of the clock broken by it). */
  private readonly runId = randomUUID();
  private readonly rulesListeners: ((rules: AlertRule[], version: RulesVersion) => void)[] = [];
  private readonly peerRules = { taken: 0, older: 0, invalid: 0, catchUpsInvalid: 0 };
  private readonly peerRulesLog = new RateLimitedLog((line) => this.logger.error(line));
  /**
   * Rules saved in the store that the schema refused at boot (an upgrade tightened it): not run,
   * kept as saved and written back with every save of the set, so nothing an admin saved is
   * deleted by an upgrade; one leaves when a rule of its id is saved (decision 0072, addendum 2).
   */
  private refusedStored: readonly RefusedRule[] = [];
  /** Resolved once onModuleInit restored the stored rules and alerts (at once without a store). */
  private readonly booted: Promise<void>;
  private markBooted!: () => void;
  /** Several gateways own devices (decision 0029): each event is saved at once, not with the tick. */
  private saveAtOnce = false;
  /** Created once: the hot path passes it without allocating a closure per message. */
  private readonly groupOf: GroupLookup;
  /** Several gateways: the other gateways' open alerts, as the live layer follows them. */
  private peers: PeerAlertsLink | null = null;
  /** The fleet of the built-in simulator the gateway is stopping (see {@link stoppingSimulator}). */
  private stoppedFleet: ((deviceId: string) => boolean) | null = null;
  /** The fleet this start's built-in simulator will run (SIMULATOR=on), or null: none. */
  private readonly ownFleet: ((deviceId: string) => boolean) | null;

  constructor(
    @Inject(CONFIG)
    config: Pick<Config, 'ALERT_RULES_FILE'> &
      Partial<Pick<Config, 'SIMULATOR' | 'SIMULATOR_DEVICES'>>,
    @Inject(INITIAL_ALERT_RULES) rules: readonly AlertRule[],
    private readonly registry: DeviceRegistryService,
    @Inject(LIVE_PUBLISHER) private readonly hub: Pick<LivePublisher, 'publishAlert'>,
    @Optional() @Inject(ALERT_STORE) private readonly store: AlertStore | null = null,
    /** The active list's version (decision 0054): a change without an event moves it too. */
    @Optional() private readonly snapshot: AlertsSnapshot | null = null,
  ) {
    this.booted = new Promise((resolve) => (this.markBooted = resolve));
    if (!store) this.markBooted();
    this.rulesFile = config.ALERT_RULES_FILE;
    // A rules file's version is when it was written (by a gateway, or by hand).
    if (this.rulesFile !== undefined)
      try {
        this.rulesVersion = sane({ at: Math.floor(statSync(this.rulesFile).mtimeMs), by: '' });
      } catch {
        // not there yet: the boot's loader said so already, or it is written on the first change
      }
    this.ownFleet =
      config.SIMULATOR === 'on' && config.SIMULATOR_DEVICES
        ? simulatedFleet(config.SIMULATOR_DEVICES)
        : null;
    this.groupOf = (deviceId) => this.registry.groupOf(deviceId);
    this.engine = new AlertEngine(undefined, {
      groupOf: this.groupOf,
      maxHistory: ALERT_HISTORY_KEPT,
    });
    this.rulesFrom = this.rulesFile ?? 'the built-in defaults';
    this.engine.setRules(rules);
    this.engine.onAlert((alert) => this.hub.publishAlert(alert));
    if (store) {
      const journal = (this.journal = new AlertJournal(store, ALERT_HISTORY_KEPT));
      this.engine.onAlert((alert) => {
        journal.note(alert);
        // The gateway that takes a device over next must find its alerts as they are now. One
        // write at a time: events noted during a write go with the next one (or the tick).
        if (this.saveAtOnce)
          void this.persist().then(() => (journal.pending ? this.persist() : undefined));
      });
    }
  }

  async onModuleInit(): Promise<void> {
    let open: AlertEvent[] = [];
    try {
      open = this.store ? await this.restore(this.store) : [];
    } finally {
      this.markBooted();
    }
    // With several gateways the store's open list is every gateway's, and the engine took all of
    // it back: until ownership is known it cannot tell which are its own. It is the peers' list
    // to start from (events of this engine take an alert off it: AlertRouting's first hand-over
    // announces the ones it owns, and lets go of the others, which stay listed as the peers').
    // Announced as this engine's events instead, they would leave it, then leave the engine
    // unannounced: a restarted gateway listed none of its peers' open alerts until they changed.
    // With one gateway the fleet summary learns the restored active list (no client connected).
    if (this.peers) this.peers.seed(open);
    else for (const alert of this.engine.active()) this.hub.publishAlert(alert);
    this.timer = setInterval(() => {
      // A tick long overdue: the process did not run (frozen, a long pause). What devices sent
      // meanwhile is still queued on their connections and comes next; judged now, every device
      // would look silent for the pause. The next tick judges with it in.
      // One skip in a row at most: a loop that lags more than that all the time still judges.
      const now = performance.now();
      const late = now - this.lastTickAt > LATE_TICK_MS && !this.skippedLast;
      this.lastTickAt = now;
      this.skippedLast = late;
      if (late) this.lateTicks++;
      else this.engine.tick();
      void this.persist();
    }, ALERT_TICK_MS);
    this.timer.unref();
    const count = this.engine.rules().length;
    const kept = this.rulesFile || this.store ? '' : ' (HTTP changes are kept in memory only)';
    const refused = this.refusedStored.length;
    this.logger.log(
      `${count} alert rule${count === 1 ? '' : 's'} from ${this.rulesFrom}${kept}; ${this.engine.active().length} active${refused ? `; ${refused} stored rule${refused === 1 ? '' : 's'} refused by the schema, not run` : ''}`,
    );
  }

  /**
   * Boot, before any message arrives: the rules saved over HTTP, the history and the active
   * list as they were (see AlertEngine.restore), once the registry has its devices back.
   * Returns the open alerts read from the store.
   */
  private async restore(store: AlertStore): Promise<AlertEvent[]> {
    // The file, when set, is the rules' one home; else what was saved over HTTP, if anything.
    const saved = this.rulesFile === undefined ? await store.loadRules() : null;
    if (saved) {
      this.rulesFrom = 'the store (saved over HTTP)';
      this.engine.setRules(this.storedRules(saved));
      // The version it was saved with: gateways that restarted agree on the newest set.
      this.rulesVersion = sane((await store.loadRulesVersion()) ?? this.rulesVersion);
    }
    const [history, open] = await Promise.all([
      store.loadHistory(ALERT_HISTORY_KEPT),
      store.loadOpen(),
      this.registry.ready(),
    ]);
    this.engine.restore(history, open);
    // A device still offline keeps its offline time, so an offline rule raises (once) when it
    // would have, restart or not; every device is watched for silence from now. Not a device of
    // the built-in simulator this start runs, left offline: the gateway stopped it (see
    // stoppingSimulator), and it is watched again once it speaks (the simulator, started again,
    // says `online` at once). With SIMULATOR=off, or a smaller fleet, nothing will bring it back:
    // watched as any device.
    for (const device of this.registry.list()) {
      const { deviceId, lastSeen } = device;
      if (device.status === 'offline') {
        if (this.ownFleet?.(deviceId)) continue;
        this.engine.onStatus(deviceId, 'offline', lastSeen ?? undefined, this.groupOf);
      }
      this.engine.watchRestored(
        deviceId,
        device.metrics,
        this.registry.paceOf(deviceId),
        device.lastTs,
      );
    }
    return open;
  }

  /**
   * The rule set saved in the store, rule by rule through the schema (storedRuleSet): saved by an
   * older version, a rule gets the defaults added since, so it has the tag every gateway
   * computes. One the schema now refuses is not run, and does not stop the start either: with
   * several gateways on one PostgreSQL an upgrade that tightened the schema would otherwise stop
   * every one of them at its restart (and `restart: unless-stopped` loop them), leaving the wall
   * with no live data and no alerts at all for one rule. It is logged at error level with why,
   * counted (`storedRulesRefused`, `pulse_alert_stored_rules_refused`), listed to admins
   * (`GET /api/alert-rules` → `refused`) and kept as saved: the next save writes it back. A bad
   * ALERT_RULES_FILE still stops the start (loadInitialAlertRules): that file is edited by a
   * person at deploy time, who is there to read the error.
   */
  private storedRules(saved: unknown[]): AlertRule[] {
    const { rules, refused } = storedRuleSet(saved);
    this.refusedStored = refused;
    refused
      .slice(0, REFUSED_RULES_LOGGED)
      .forEach((r) =>
        this.logger.error(
          `stored alert rule ${r.id === null ? '(no id)' : `"${r.id}"`} refused by the schema, not run (kept as saved; a rule saved with its id replaces it): ${r.issues.join('; ')}`,
        ),
      );
    if (refused.length > REFUSED_RULES_LOGGED)
      this.logger.error(
        `${refused.length - REFUSED_RULES_LOGGED} more stored alert rules refused by the schema, not run: GET /api/alert-rules lists them all`,
      );
    return rules;
  }

  /**
   * The gateway is about to stop its built-in simulator (PulseRuntime, the first step of a clean
   * stop): the `offline` each of its devices says from now is the gateway's own doing. The
   * registry keeps it (the fleet is offline while the gateway is down), but no alert rule takes
   * it as an incident: every restart would otherwise leave an offline alert per simulated device
   * (raised at the stop with a rule of no `forMs`, or at the next boot from the registry's status
   * once `forMs` has passed), each to acknowledge. At boot such a device of the simulator that
   * start runs is not watched until it speaks again ({@link restore}). `fleet`: the ids of the
   * simulator being stopped (SimulatorRepository: the fleet it was started with, as the broker's
   * ACL knows it), null when none runs; not the look of an id: any other device's `offline`
   * during the stop raises as ever, and without a simulator nothing is left out.
   */
  stoppingSimulator(fleet: ((deviceId: string) => boolean) | null): void {
    this.stoppedFleet = fleet;
  }

  /**
   * The last writes of a clean stop, and no tick after. PulseRuntime calls it once the ingest,
   * which feeds the engine, has stopped (beforeApplicationShutdown), so what its last readings
   * and statuses raised or cleared is written too (in `onModuleDestroy`, a phase earlier, it was
   * not: such an alert came back after a restart as a new episode, or not at all). The stores
   * close after (onApplicationShutdown); until then an acknowledgement is still written at once.
   */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.persist(); // waits for a write under way
    await this.persist();
    this.storeLog.close();
    this.peerRulesLog.close();
  }

  /** Write the lifecycle events not saved yet, now (a backup): what close() writes, the timer kept. */
  async flush(): Promise<void> {
    await this.persist(); // waits for a write under way
    await this.persist();
  }

  /** Write what the journal holds; a failure keeps it for the next try (logged at a bounded rate). */
  private async persist(): Promise<void> {
    const journal = this.journal;
    if (!journal) return;
    try {
      await journal.flush();
    } catch (error) {
      this.storeLog.report('store', `alert lifecycle not saved: ${(error as Error).message}`);
    }
    if (journal.dropped > this.droppedReported) {
      this.droppedReported = journal.dropped;
      this.storeLog.report('dropped', `${journal.dropped} alert events not saved (store behind)`);
    }
  }

  // ───────── inputs (ingest hot path) ─────────

  /** Decoded readings of one message, after the registry accepted them. */
  onReadings(readings: readonly Reading[]): void {
    this.engine.onReadings(readings, this.groupOf);
  }

  onStatus(deviceId: string, status: 'online' | 'offline', at: number): void {
    if (status === 'offline' && this.stoppedFleet?.(deviceId)) return;
    this.engine.onStatus(deviceId, status, at, this.groupOf);
  }

  /** The device left the registry: its alert states go with it (see AlertEngine.forgetDevice). */
  forgetDevice(deviceId: string, why: DeviceGone): void {
    this.engine.forgetDevice(deviceId, GONE_REASONS[why]);
  }

  // ───────── device ownership (several gateways, decision 0029) ─────────

  /** Save each event at once (ownership/alert-routing.ts turns it on with REDIS_URL). */
  saveEventsAtOnce(): void {
    this.saveAtOnce = true;
  }

  /**
   * Devices `gone` picks are owned elsewhere now: their states and open alerts leave the engine
   * without an event, and what the journal holds for them is written now for the new owner.
   */
  release(gone: (deviceId: string) => boolean): void {
    this.engine.release(gone);
    this.snapshot?.changed(); // the list lost alerts and no event says so
    void this.persist();
  }

  /**
   * Devices `gained` picks are owned here now: their open alerts are loaded from the store and
   * carried on as the same episodes (no second raise while the condition holds), each watched by
   * its no-data and offline rules as at boot. Any older copy here (from boot) gives way to the
   * store's. Their status comes from the registry (AlertRouting holds it back until now): an
   * offline device keeps its offline time, an online one clears an offline alert the previous
   * owner left open. Returns the alerts taken over.
   */
  async adopt(gained: (deviceId: string) => boolean): Promise<number> {
    const stored = this.store ? await this.store.loadOpen() : [];
    const open = stored.filter((event) => gained(event.deviceId));
    this.engine.release(gained);
    this.snapshot?.changed(); // events follow for the alerts adopted, not for those replaced
    this.engine.adopt(open, 'rule changed or removed while another gateway owned the device');
    for (const device of this.registry.list()) {
      if (!gained(device.deviceId)) continue;
      if (device.status !== 'unknown')
        this.engine.onStatus(
          device.deviceId,
          device.status,
          device.lastSeen ?? undefined,
          this.groupOf,
        );
      this.engine.watchRestored(
        device.deviceId,
        device.metrics,
        this.registry.paceOf(device.deviceId),
        device.lastTs,
      );
    }
    for (const alert of this.engine.active())
      if (gained(alert.deviceId)) this.hub.publishAlert(alert);
    return open.length;
  }

  // ───────── alerts ─────────

  active(): AlertEvent[] {
    return this.engine.active();
  }

  /**
   * Set by the live layer, which follows the other gateways' alerts (live/peer-alerts.ts), in the
   * live gateway's `afterInit`: Nest runs it before any `onModuleInit`, so before the restore.
   */
  withPeers(peers: PeerAlertsLink): void {
    this.peers = peers;
  }

  /**
   * The fleet's active list (`GET /api/alerts`, a new client's snapshot): this gateway's engine's, plus, with several
   * gateways, the open alerts the others hold; most severe first, newest first.
   */
  activeEverywhere(): AlertEvent[] {
    const local = this.engine.active();
    if (!this.peers) return local;
    const all = this.peers.add(local);
    return all.length === local.length ? local : all.sort(byActiveOrder);
  }

  /**
   * Lifecycle events, newest first. With a group `scope` (a screen, a scoped token), only the
   * events of devices in it, and with `device` those of the devices it names (a known device's
   * exact id, else part of an id or a display name): `limit` of those, other devices' newer
   * events do not use it up.
   */
  history(query: AlertQuery, scope: readonly string[] | null = null): AlertEvent[] {
    const text = query.device?.toLowerCase();
    if (scope === null && text === undefined) return this.engine.history(query);
    // A known device's exact id names that device alone (the device page's link), not the
    // longer ids containing it: decided here, where every device is known.
    const exact =
      query.device !== undefined && this.registry.has(query.device) ? query.device : null;
    // Each device judged once per read (the ring holds up to 10,000 events, of fewer devices).
    const judged = new Map<string, boolean>();
    const keep = (deviceId: string): boolean =>
      (scope === null || inScope(scope, this.groupOf(deviceId) ?? undefined)) &&
      (text === undefined ||
        (exact !== null
          ? deviceId === exact
          : deviceId.toLowerCase().includes(text) ||
            (this.registry.nameOf(deviceId)?.toLowerCase().includes(text) ?? false)));
    return this.engine.history(query, ({ deviceId }) => {
      let kept = judged.get(deviceId);
      if (kept === undefined) judged.set(deviceId, (kept = keep(deviceId)));
      return kept;
    });
  }

  /** HTTP and live `ack` alike; the resulting `alert` event goes out through the hub. */
  /** `by`: the authenticated user's name (never the request body's). */
  /**
   * Acknowledge an open alert for `by`. With a group `scope` (a scoped token), an alert of a
   * device outside it is `not_found`, as the device itself is to that caller.
   */
  acknowledge(
    id: string,
    request: { by: string; note?: string; scope?: readonly string[] | null },
  ): AckResponse {
    const scope = request.scope ?? null;
    if (scope !== null) {
      const deviceId = this.engine.deviceOf(id);
      if (deviceId === undefined || !inScope(scope, this.groupOf(deviceId) ?? undefined))
        return { ok: false, error: 'not_found', message: `no open alert "${id}"` };
    }
    const result = this.engine.acknowledge(id, request.by, Date.now(), request.note);
    // An operator's action: saved now, not with the next tick.
    if (result.ok) void this.persist();
    return result;
  }

  // ───────── rules ─────────

  rules(): AlertRule[] {
    return this.engine.rules();
  }

  rule(id: string): AlertRule {
    const rule = this.engine.rules().find((r) => r.id === id);
    if (!rule) throw new NotFoundException(`no alert rule "${id}"`);
    return rule;
  }

  /**
   * Told each rule set changed here over HTTP, with its version: the live layer hands it to the
   * other gateways (live/peer-rules.ts), which take it with {@link applyPeerRules}.
   */
  onRulesChanged(listener: (rules: AlertRule[], version: RulesVersion) => void): void {
    this.rulesListeners.push(listener);
  }

  /**
   * The rules this gateway runs and their version, if they are newer than `since` (a peer catching
   * up: PeerRules), else null. A gateway that has not changed or taken a set since it started has
   * no version to offer (its rules are what its file or store held).
   */
  rulesNewerThan(since: unknown): { rules: AlertRule[]; version: RulesVersion } | null {
    const theirs = peerRulesVersion(since);
    if (theirs === null) {
      // No version, not "the oldest": a peer that cannot say what it runs is not sent a set.
      this.peerRules.catchUpsInvalid++;
      this.peerRulesLog.report(
        'catch-up',
        `a catch-up with a malformed rules version from another gateway refused: ${quote(since, 80)}`,
      );
      return null;
    }
    if (this.rulesVersion.at === 0 || !newer(this.rulesVersion, theirs)) return null;
    return { rules: this.engine.rules(), version: this.rulesVersion };
  }

  /** The version of the rules this gateway runs (`{at: 0}`: as its file or store held them at start). */
  currentRulesVersion(): RulesVersion {
    return this.rulesVersion;
  }

  /** Resolves once the boot's restore (rules, alerts) is done. */
  whenBooted(): Promise<void> {
    return this.booted;
  }

  /**
   * Another gateway's rule set (several gateways): validated as a rules file is, taken if newer
   * than the one running here (so concurrent edits on two gateways end the same everywhere),
   * saved where this gateway keeps its rules (its file, or its store: a restart starts from it)
   * and run. A save that fails is logged; the rules run anyway, as on the other gateways.
   * Returns whether it was taken.
   */
  applyPeerRules(rules: unknown, version: unknown): Promise<boolean> {
    return this.edit(async () => {
      // After the boot's restore: a set taken before it would be replaced by the stored one.
      await this.booted;
      const v = peerRulesVersion(version);
      if (v === null)
        return this.refusePeerRules('version', `a malformed version ${quote(version, 80)}`);
      if (!Array.isArray(rules) || rules.length > ALERT_LIMITS.maxRules)
        return this.refusePeerRules(
          'list',
          `not a list of at most ${ALERT_LIMITS.maxRules} rules: ${quote(rules, 80)}`,
        );
      let parsed: AlertRule[];
      try {
        parsed = parseAlertRules(JSON.stringify({ rules }), 'json', 'a peer gateway');
      } catch (error) {
        return this.refusePeerRules('invalid', (error as Error).message);
      }
      if (!newer(v, this.rulesVersion)) {
        this.peerRules.older++;
        return false;
      }
      try {
        await this.save(parsed, v);
      } catch (error) {
        this.peerRulesLog.report(
          'save',
          `rules from a peer gateway not saved here: ${(error as Error).message}`,
        );
      }
      this.engine.setRules(parsed);
      this.rulesVersion = v;
      this.peerRules.taken++;
      return true;
    });
  }

  /** A peer's rule set that is no valid one: counted, logged at a bounded rate (per reason). */
  private refusePeerRules(reason: 'version' | 'list' | 'invalid', what: string): false {
    this.peerRules.invalid++;
    this.peerRulesLog.report(`peer-${reason}`, `rules from a peer gateway refused: ${what}`);
    return false;
  }

  createRule(rule: AlertRule): Promise<AlertRule> {
    return this.edit(() => this.create(rule));
  }

  /**
   * Replace a rule, or create it: PUT is idempotent. With preconditions (`If-Match` from the
   * read the change was made on, `If-None-Match: *` to create only) a rule changed, removed or
   * created meanwhile is refused 412 and left as it is; they are judged inside the edit queue,
   * against the rules the change would replace.
   */
  replaceRule(
    id: string,
    rule: AlertRule,
    when: Preconditions = NO_PRECONDITIONS,
  ): Promise<AlertRule> {
    return this.edit(async () => {
      if (rule.id !== id)
        throw new BadRequestException([`id: must match the path ("${id}"), got "${rule.id}"`]);
      const rules = this.engine.rules();
      const i = rules.findIndex((r) => r.id === id);
      const current = i < 0 ? null : rules[i];
      if (this.refused(id, current, when, rule)) return current as AlertRule;
      if (i < 0) return this.create(rule);
      rules[i] = rule;
      await this.apply(rules);
      return rule;
    });
  }

  /**
   * Delete a rule (404 if there is none); with `If-Match`, only the rule as it was read (412).
   * A rule that is not there is 404 whatever the preconditions: RFC 9110 §13.2.1 has a server
   * ignore them when the request without them would fail (it is no 412 `rule_gone`, unlike a
   * PUT, which without them would create the rule).
   */
  deleteRule(id: string, when: Preconditions = NO_PRECONDITIONS): Promise<void> {
    return this.edit(async () => {
      const rules = this.engine.rules();
      const current = rules.find((r) => r.id === id);
      if (!current) throw new NotFoundException(`no alert rule "${id}"`);
      this.refused(id, current, when);
      await this.apply(rules.filter((r) => r.id !== id));
    });
  }

  /** The rules with each one's entity tag by id (`GET /api/alert-rules`). */
  rulesWithTags(): { rules: AlertRule[]; etags: Record<string, string> } {
    const rules = this.engine.rules();
    return { rules, etags: Object.fromEntries(rules.map((rule) => [rule.id, ruleEtag(rule)])) };
  }

  /** The stored rules the schema refused at boot, not run (ids and why; admins' list). */
  refusedStoredRules(): RefusedStoredRule[] {
    return this.refusedStored.map(({ id, issues }) => ({ id, issues }));
  }

  /**
   * Throws 412 (counted) when `when` fails on the rule `id` as it is (`current`, null: none).
   * True when it failed only because the change asked is already made (`wanted` is the rule as
   * it stands): RFC 9110 §13.1.1 lets that answer as a success, and two admins who turned the
   * same rule off are both right. No preconditions: false, the write goes ahead.
   */
  private refused(
    id: string,
    current: AlertRule | null,
    when: Preconditions,
    wanted?: AlertRule,
  ): boolean {
    const etag = current ? ruleEtag(current) : null;
    const failed = failedPrecondition(when, etag);
    if (failed === null) return false;
    if (failed === 'if-match' && wanted && etag === ruleEtag(wanted)) return true;
    this.ruleConflicts++;
    const name = `alert rule "${id}"`;
    const body: Omit<RuleConflictResponse, 'statusCode'> =
      current === null
        ? {
            error: 'rule_gone',
            message: `${name} no longer exists: it was deleted after it was read. Send it without If-Match (or with If-None-Match: *) to create it again`,
            rule: null,
            etag: null,
          }
        : failed === 'if-none-match'
          ? {
              error: 'rule_exists',
              message: `${name} exists already (If-None-Match): read it, then send your change with If-Match: ${etag}`,
              rule: current,
              etag,
              // The rule sent, parsed (defaults in), is the one stored: a create sent twice.
              // Judged here, where the schema is: the client cannot fill in the defaults.
              same: wanted !== undefined && ruleEtag(wanted) === etag,
            }
          : {
              error: 'rule_changed',
              message: `${name} changed after it was read (If-Match): it is now the rule in this answer, ETag ${etag}; make the change on it and send it with that If-Match`,
              rule: current,
              etag,
            };
    throw new PreconditionFailedException(body);
  }

  private async create(rule: AlertRule): Promise<AlertRule> {
    const rules = this.engine.rules();
    if (rules.some((r) => r.id === rule.id))
      throw new ConflictException(
        `alert rule "${rule.id}" exists: PUT /api/alert-rules/${rule.id} to change it`,
      );
    if (rules.length >= ALERT_LIMITS.maxRules)
      throw new BadRequestException([`rules: at most ${ALERT_LIMITS.maxRules} alert rules`]);
    await this.apply([...rules, rule]);
    return rule;
  }

  private edit<T>(change: () => Promise<T>): Promise<T> {
    const next = this.edits.then(change);
    this.edits = next.catch(() => undefined);
    return next;
  }

  stats(): AlertStats {
    const s = this.engine.stats();
    return {
      rules: s.rules,
      enabledRules: s.enabledRules,
      states: s.states,
      active: s.active,
      refusedStates: s.refusedStates,
      outOfOrder: s.outOfOrder,
      late: s.late,
      future: s.future,
      events: s.events,
      historySize: s.historySize,
      listenerErrors: s.listenerErrors,
      rulesSaved: this.rulesSaved,
      ruleConflicts: this.ruleConflicts,
      lateTicks: this.lateTicks,
      storedRulesRefused: this.refusedStored.length,
      ...(this.rulesListeners.length > 0
        ? {
            rulesFromPeers: this.peerRules.taken,
            rulesFromPeersOlder: this.peerRules.older,
            rulesFromPeersInvalid: this.peerRules.invalid,
            rulesCatchUpsInvalid: this.peerRules.catchUpsInvalid,
          }
        : {}),
    };
  }

  /**
   * An HTTP change: persisted first, then the engine switched (a failed write changes nothing),
   * then the other gateways told.
   */
  private async apply(rules: AlertRule[]): Promise<void> {
    const version = { at: Math.max(Date.now(), this.rulesVersion.at + 1), by: this.runId };
    await this.save(rules, version);
    this.engine.setRules(rules);
    this.rulesVersion = version;
    // Told after the change took: a listener's failure (Redis away) does not undo it here.
    for (const listener of this.rulesListeners)
      try {
        listener(rules, this.rulesVersion);
      } catch (error) {
        this.logger.error(`rules change not passed on: ${(error as Error).message}`);
      }
  }

  /**
   * Write the rules where this gateway keeps them (its file, or its store); throws HTTP errors.
   * In the store, the stored rules refused at boot go after them as they were saved, but for
   * one whose id a rule of `rules` now has: that newer rule replaces it (logged).
   */
  private async save(rules: AlertRule[], version: RulesVersion): Promise<void> {
    const target = this.rulesFile ?? (this.store ? 'the store' : null);
    if (target !== null) {
      try {
        if (this.rulesFile !== undefined) {
          saveAlertRulesFile(this.rulesFile, rules);
          // The file's version is its modification time (read at start): the set's, not this
          // clock's now (a set taken from a peer keeps the peer's time).
          utimesSync(this.rulesFile, new Date(version.at), new Date(version.at));
        } else if (this.store) {
          const ids = new Set(rules.map((rule) => rule.id));
          const kept = this.refusedStored.filter((r) => r.id === null || !ids.has(r.id));
          await this.store.saveRules([...rules, ...kept.map((r) => r.raw)], version);
          // Once per refused rule at most, in the process's life: bounded by what the boot read.
          for (const r of this.refusedStored)
            if (!kept.includes(r))
              this.logger.warn(
                `stored alert rule "${r.id}" (refused by the schema at boot) replaced by the new rule of that id; the old one is no longer kept`,
              );
          this.refusedStored = kept;
        }
        this.rulesSaved++;
      } catch (error) {
        this.logger.error(`cannot write ${target}: ${(error as Error).message}`);
        // The store down (PostgreSQL stopped or unreachable, SQLite busy) passes: 503, as for
        // history reads, and the driver's words stay in the log. A file or a SQLite database that
        // cannot be written (full, read-only) is a setup fault.
        if (this.rulesFile === undefined && passes(error))
          throw new ServiceUnavailableException(
            'alert rules not changed: the store cannot be written right now; try again shortly',
          );
        const what = this.rulesFile !== undefined ? 'ALERT_RULES_FILE' : 'the store';
        throw new InternalServerErrorException(
          `alert rules not changed: cannot write ${what} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        );
      }
    }
  }
}

/**
 * A rule set's version from another gateway (its change, or its catch-up question), or null when
 * it is none: a safe integer time, not from the future (one far ahead could never be beaten),
 * and a changer's id of at most 64 characters (`by` is '' for a gateway that has not changed or
 * taken a set since it started). The one check of both.
 */
function peerRulesVersion(value: unknown): RulesVersion | null {
  if (typeof value !== 'object' || value === null) return null;
  const { at, by } = value as Partial<Record<keyof RulesVersion, unknown>>;
  if (typeof at !== 'number' || !Number.isSafeInteger(at)) return null;
  if (at > Date.now() + MAX_RULES_CLOCK_AHEAD_MS) return null;
  if (typeof by !== 'string' || by.length > 64) return null;
  return { at, by };
}

/**
 * A version as far ahead as a peer's may be (a saved one from a clock that ran more than a day
 * ahead is taken as now: kept, no edit of this gateway could ever beat it, nor peers take one).
 */
function sane(version: RulesVersion): RulesVersion {
  return version.at > Date.now() + MAX_RULES_CLOCK_AHEAD_MS ? { at: Date.now(), by: '' } : version;
}

/** `a` is a later rule set than `b`: its time, then its changer's id, decide. */
function newer(a: RulesVersion, b: RulesVersion): boolean {
  return a.at > b.at || (a.at === b.at && a.by > b.by);
}

/** A store error that passes: anything but SQLite's own, of which only busy and locked do. */
function passes(error: unknown): boolean {
  const code = String((error as { code?: unknown }).code ?? '');
  return !code.startsWith('SQLITE_') || /^SQLITE_(BUSY|LOCKED)/.test(code);
}
