import {
  BadRequestException,
  ConflictException,
  Inject,
  Injectable,
  InternalServerErrorException,
  Logger,
  NotFoundException,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import {
  ALERT_LIMITS,
  AckResponse,
  AlertEvent,
  AlertQuery,
  AlertRule,
  AlertStats,
  Reading,
} from '@pulse/protocol';
import { inScope } from '../auth/principal';
import { LIVE_PUBLISHER, LivePublisher } from '../common/live-publisher';
import { CONFIG, Config, StartupError } from '../config/config';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { AlertEngine, GroupLookup } from './alert-engine';
import {
  AlertRulesError,
  DEFAULT_RULES,
  loadAlertRulesFile,
  saveAlertRulesFile,
} from './alert-rules.loader';

/** DI token of the rules loaded at boot (see {@link loadInitialAlertRules}). */
export const INITIAL_ALERT_RULES = Symbol('INITIAL_ALERT_RULES');

/** How often the engine's timers run (no-data, offline, durations between readings). */
export const ALERT_TICK_MS = 1000;

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

/**
 * Owns the alert engine: feeds it from ingest (readings, status), drives its timers, pushes
 * every lifecycle event to the live hub, and serves the alert and rule API. Rule changes
 * over HTTP are written back to ALERT_RULES_FILE when it is set (before they take effect, so
 * the file and the engine never disagree), otherwise they live in memory only.
 * Events go out through the {@link LivePublisher} port: this folder must not import `live/`
 * (the live gateway calls into it for `ack` and the `alerts` snapshot).
 */
@Injectable()
export class AlertsService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Alerts');
  private readonly engine: AlertEngine;
  private readonly rulesFile: string | undefined;
  private timer: ReturnType<typeof setInterval> | null = null;
  private rulesSaved = 0;
  /** Created once: the hot path passes it without allocating a closure per message. */
  private readonly groupOf: GroupLookup;

  constructor(
    @Inject(CONFIG) config: Pick<Config, 'ALERT_RULES_FILE'>,
    @Inject(INITIAL_ALERT_RULES) rules: readonly AlertRule[],
    private readonly registry: DeviceRegistryService,
    @Inject(LIVE_PUBLISHER) private readonly hub: Pick<LivePublisher, 'publishAlert'>,
  ) {
    this.rulesFile = config.ALERT_RULES_FILE;
    this.groupOf = (deviceId) => this.registry.groupOf(deviceId);
    this.engine = new AlertEngine(undefined, { groupOf: this.groupOf });
    this.engine.setRules(rules);
    this.engine.onAlert((alert) => this.hub.publishAlert(alert));
  }

  onModuleInit(): void {
    this.timer = setInterval(() => this.engine.tick(), ALERT_TICK_MS);
    this.timer.unref();
    const count = this.engine.rules().length;
    this.logger.log(
      `${count} alert rule${count === 1 ? '' : 's'} from ${this.rulesFile ?? 'the built-in defaults'}${this.rulesFile ? '' : ' (HTTP changes are kept in memory only)'}`,
    );
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  // ───────── inputs (ingest hot path) ─────────

  /** Decoded readings of one message, after the registry accepted them. */
  onReadings(readings: readonly Reading[]): void {
    this.engine.onReadings(readings, this.groupOf);
  }

  onStatus(deviceId: string, status: 'online' | 'offline', at: number): void {
    this.engine.onStatus(deviceId, status, at, this.groupOf);
  }

  /** The registry evicted the device: its alert states go with it (see AlertEngine.forgetDevice). */
  forgetDevice(deviceId: string): void {
    this.engine.forgetDevice(deviceId);
  }

  // ───────── alerts ─────────

  active(): AlertEvent[] {
    return this.engine.active();
  }

  history(query: AlertQuery): AlertEvent[] {
    return this.engine.history(query);
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
    return this.engine.acknowledge(id, request.by, Date.now(), request.note);
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

  createRule(rule: AlertRule): AlertRule {
    const rules = this.engine.rules();
    if (rules.some((r) => r.id === rule.id))
      throw new ConflictException(
        `alert rule "${rule.id}" exists: PUT /api/alert-rules/${rule.id} to change it`,
      );
    if (rules.length >= ALERT_LIMITS.maxRules)
      throw new BadRequestException([`rules: at most ${ALERT_LIMITS.maxRules} alert rules`]);
    this.apply([...rules, rule]);
    return rule;
  }

  /** Replace a rule, or create it: PUT is idempotent. */
  replaceRule(id: string, rule: AlertRule): AlertRule {
    if (rule.id !== id)
      throw new BadRequestException([`id: must match the path ("${id}"), got "${rule.id}"`]);
    const rules = this.engine.rules();
    const i = rules.findIndex((r) => r.id === id);
    if (i < 0) return this.createRule(rule);
    rules[i] = rule;
    this.apply(rules);
    return rule;
  }

  deleteRule(id: string): void {
    const rules = this.engine.rules();
    if (!rules.some((r) => r.id === id)) throw new NotFoundException(`no alert rule "${id}"`);
    this.apply(rules.filter((r) => r.id !== id));
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
    };
  }

  /** Persist first, then switch the engine: a failed write changes nothing. */
  private apply(rules: AlertRule[]): void {
    if (this.rulesFile !== undefined) {
      try {
        saveAlertRulesFile(this.rulesFile, rules);
        this.rulesSaved++;
      } catch (error) {
        this.logger.error(`cannot write ${this.rulesFile}: ${(error as Error).message}`);
        throw new InternalServerErrorException(
          `alert rules not changed: cannot write ALERT_RULES_FILE (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
        );
      }
    }
    this.engine.setRules(rules);
  }
}
