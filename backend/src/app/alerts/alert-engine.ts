import {
  ALERT_LIMITS,
  ALERT_SEVERITIES,
  AlertEvent,
  AlertQuery,
  AlertRule,
  AlertSeverity,
  AckResponse,
  LIMITS,
  Reading,
  AlertStats,
} from '@pulse/protocol';

/**
 * The alert engine: pure, synchronous, no Nest / socket / MQTT. Fed decoded readings and
 * device status, driven by `tick()` for timers, it raises, clears and tracks alerts and
 * reports every lifecycle change as an {@link AlertEvent}.
 *
 * Time: threshold and rate rules run on reading timestamps (clamped to the server clock, so a
 * reading stamped ahead can never move time forward); no-data and offline run on the server
 * clock, which is the only clock that knows a device is silent.
 *
 * Lifecycle (ISA-18.2 style): raised → acknowledged → cleared. A cleared alert that nobody
 * acknowledged stays on the active list until someone does; if its condition returns first,
 * the same alert is raised again (`count` + 1), so there is at most one open alert per
 * rule × device × metric.
 */

export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/** The group of a device (from its retained meta), or undefined. */
export type GroupLookup = (deviceId: string) => string | null | undefined;
export type AlertListener = (event: AlertEvent) => void;

export interface AlertEngineOptions {
  /** Rule × device (× metric) states kept at most; beyond, new ones are refused and counted. Default 100 000. */
  maxStates?: number;
  /** Lifecycle events kept for `history()` (a ring). Default 10 000. */
  maxHistory?: number;
  /** Flap detection window. Default 10 min. */
  flapWindowMs?: number;
  /** More raises than this inside the window mark the alert flapping. Default 5. */
  flapMaxRaises?: number;
  /** A flapping alert settles (clears, or goes back to raised) after its condition stays put this long. Default 60 s. */
  flapQuietMs?: number;
  /** Readings stamped further ahead of the server clock are ignored; nearer ones are clamped to it. Default LIMITS.maxFutureSkewMs. */
  futureToleranceMs?: number;
  /** Readings stamped further behind the server clock only count as signs of life (no-data), they never raise or clear. Default 5 min. */
  lateToleranceMs?: number;
  /** How long a reading's value is assumed to stand before the next one, while the device's cadence is unknown. Default 5 s. */
  sampleHoldMs?: number;
  /** Threshold / rate states with no open alert and no reading for this long are dropped. Default 1 h. */
  idleStateMs?: number;
  /** Group of a device, for rules scoped to a group. */
  groupOf?: GroupLookup;
  /** Called for every lifecycle change (same as `onAlert`). */
  onEvent?: AlertListener;
}

/** The engine's counters: the `alerts` block of `GET /api/stats` minus what the service adds. */
export type AlertEngineStats = Omit<AlertStats, 'rulesSaved'>;

export type AckResult = AckResponse;

const SEVERITY_RANK: Record<AlertSeverity, number> = Object.fromEntries(
  ALERT_SEVERITIES.map((severity, i) => [severity, i]),
) as Record<AlertSeverity, number>;

/** Per rule × device (× the rule's metric) evaluation state. */
interface KeyState {
  readonly deviceId: string;
  readonly metric: string | null;
  /** Newest evaluated reading timestamp (clamped); older readings are ignored. */
  lastTs: number;
  /** Server time of the newest reading (or of the state's creation / the device's return online). */
  lastArrival: number;
  /** Value reported with events: the reading (threshold), the rate (rate), the silence in ms (no-data). */
  lastValue: number | null;
  /** EWMA of the interval between reading timestamps, ms; 0 while unknown. */
  cadence: number;
  gaps: number;
  /** Raw condition after hysteresis. */
  cond: boolean;
  /** When `cond` took its current value. */
  since: number;
  /** Debounced condition: the alert side of the state. */
  firing: boolean;
  /** When `firing` last changed. */
  changedAt: number;
  /** Recent raise times, oldest first (at most flapMaxRaises + 1). */
  raises: number[] | null;
  /** Rate window: timestamps and values from `head` on. */
  rt: number[] | null;
  rv: number[] | null;
  head: number;
  /** Offline rule: when the device went offline, NaN while online. */
  offlineSince: number;
  alert: OpenAlert | null;
}

/** An open alert: the event record (copied out on emit) plus where it belongs. */
interface OpenAlert {
  event: AlertEvent;
  key: string;
  state: KeyState | null;
}

interface CompiledRule {
  rule: AlertRule;
  name: string;
  states: Map<string, KeyState>;
}

const RATE_MAX_SAMPLES = 1024;
const CADENCE_ALPHA = 0.2;
const CADENCE_MIN_GAPS = 3;

export class AlertEngine {
  private readonly maxStates: number;
  private readonly maxHistory: number;
  private readonly flapWindowMs: number;
  private readonly flapMaxRaises: number;
  private readonly flapQuietMs: number;
  private readonly futureToleranceMs: number;
  private readonly lateToleranceMs: number;
  private readonly sampleHoldMs: number;
  private readonly idleStateMs: number;
  private readonly groupOf: GroupLookup;

  private ruleList: AlertRule[] = [];
  private compiled = new Map<string, CompiledRule>();
  /** Hot-path index: metric → enabled rules on that metric. */
  private byMetric = new Map<string, CompiledRule[]>();
  /** Enabled no-data rules without a metric (any reading counts). */
  private deviceNoData: CompiledRule[] = [];
  private offlineRules: CompiledRule[] = [];
  private stateCount = 0;

  private readonly openById = new Map<string, OpenAlert>();
  private readonly openByKey = new Map<string, OpenAlert>();
  private readonly deviceStatus = new Map<string, 'online' | 'offline'>();

  private readonly ring: AlertEvent[] = [];
  private ringNext = 0;

  private readonly listeners = new Set<AlertListener>();
  private readonly idPrefix: string;
  private seq = 0;
  private readonly counters = {
    refusedStates: 0,
    outOfOrder: 0,
    late: 0,
    future: 0,
    events: 0,
    listenerErrors: 0,
  };

  constructor(
    private readonly clock: Clock = systemClock,
    options: AlertEngineOptions = {},
  ) {
    this.maxStates = options.maxStates ?? 100_000;
    this.maxHistory = Math.max(1, options.maxHistory ?? 10_000);
    this.flapWindowMs = options.flapWindowMs ?? 600_000;
    this.flapMaxRaises = Math.max(1, options.flapMaxRaises ?? 5);
    this.flapQuietMs = options.flapQuietMs ?? 60_000;
    this.futureToleranceMs = options.futureToleranceMs ?? LIMITS.maxFutureSkewMs;
    this.lateToleranceMs = options.lateToleranceMs ?? 300_000;
    this.sampleHoldMs = options.sampleHoldMs ?? 5_000;
    this.idleStateMs = options.idleStateMs ?? 3_600_000;
    this.groupOf = options.groupOf ?? (() => undefined);
    if (options.onEvent) this.listeners.add(options.onEvent);
    // Ids stay unique across restarts: the start time, then a counter.
    this.idPrefix = `al-${clock.now().toString(36)}-`;
  }

  /** Listen to lifecycle events; returns the unsubscribe function. Listeners must be quick. */
  onAlert(listener: AlertListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ───────────────────────────── rules ─────────────────────────────

  /** The current rules, as given (disabled ones included). */
  rules(): AlertRule[] {
    return this.ruleList.slice();
  }

  /**
   * Replace the rule set (validated `AlertRule`s, ids unique). Unchanged rules keep their
   * state; open alerts of changed, disabled or removed rules are cleared (and stay visible
   * until acknowledged, like any cleared alert).
   */
  setRules(rules: readonly AlertRule[]): void {
    const now = this.clock.now();
    const next = new Map<string, CompiledRule>();
    for (const rule of rules) {
      if (next.has(rule.id)) throw new Error(`duplicate rule id "${rule.id}"`);
      const old = this.compiled.get(rule.id);
      if (old && rule.enabled && JSON.stringify(old.rule) === JSON.stringify(rule)) {
        next.set(rule.id, old);
      } else if (rule.enabled) {
        next.set(rule.id, {
          rule,
          name: rule.name ?? rule.id,
          states: new Map(),
        });
      }
    }
    for (const [id, old] of this.compiled) {
      if (next.get(id) === old) continue;
      const reason = rules.some((r) => r.id === id && r.enabled)
        ? 'rule changed'
        : 'rule removed or disabled';
      const successor = next.get(id);
      for (const state of old.states.values()) {
        const open = state.alert;
        if (open) {
          open.state = null;
          if (open.event.clearedAt === null) this.clearAlert(open, now, null, reason);
        }
      }
      this.stateCount -= old.states.size;
      if (successor) {
        // An edited rule keeps what was learned about each device (timing, cadence, offline
        // since), so editing a rule never blinds it; conditions start afresh.
        const metric = successor.rule.kind === 'offline' ? null : (successor.rule.metric ?? null);
        for (const state of old.states.values()) {
          if (state.metric !== metric) continue;
          const fresh = this.stateFor(successor, state.deviceId, metric, now);
          if (fresh === null) break;
          fresh.lastTs = state.lastTs;
          fresh.lastArrival = state.lastArrival;
          fresh.cadence = state.cadence;
          fresh.gaps = state.gaps;
          if (successor.rule.kind === 'offline') fresh.offlineSince = state.offlineSince;
        }
      }
      old.states.clear();
    }
    this.compiled = next;
    this.ruleList = rules.slice();
    this.byMetric = new Map();
    this.deviceNoData = [];
    this.offlineRules = [];
    for (const c of next.values()) {
      const rule = c.rule;
      if (rule.kind === 'offline') {
        this.offlineRules.push(c);
        // A new or changed offline rule also watches devices that are offline right now.
        if (c.states.size === 0) {
          for (const [deviceId, status] of this.deviceStatus) {
            if (status !== 'offline' || !this.inScope(c, deviceId, this.groupOf)) continue;
            const state = this.stateFor(c, deviceId, null, now);
            if (state) state.offlineSince = now;
          }
        }
      } else if (rule.kind === 'nodata' && rule.metric === undefined) this.deviceNoData.push(c);
      else {
        const metric = rule.metric as string;
        const list = this.byMetric.get(metric);
        if (list) list.push(c);
        else this.byMetric.set(metric, [c]);
      }
    }
  }

  /** Add or replace one rule (HTTP create / update). */
  upsertRule(rule: AlertRule): void {
    const i = this.ruleList.findIndex((r) => r.id === rule.id);
    const next = this.ruleList.slice();
    if (i >= 0) next[i] = rule;
    else {
      if (next.length >= ALERT_LIMITS.maxRules)
        throw new Error(`at most ${ALERT_LIMITS.maxRules} rules`);
      next.push(rule);
    }
    this.setRules(next);
  }

  /** Delete one rule; false if there was none with that id. */
  deleteRule(id: string): boolean {
    if (!this.ruleList.some((r) => r.id === id)) return false;
    this.setRules(this.ruleList.filter((r) => r.id !== id));
    return true;
  }

  // ───────────────────────────── inputs ─────────────────────────────

  /**
   * Evaluate decoded readings (the hot path): each metric only touches the rules on that
   * metric, O(1) per matching rule. Readings older than the newest evaluated one for a
   * rule × device are ignored (out of order); late ones only count as signs of life.
   */
  onReadings(readings: readonly Reading[], groupOf: GroupLookup = this.groupOf): void {
    if (this.compiled.size === 0) return;
    const now = this.clock.now();
    const futureLimit = now + this.futureToleranceMs;
    const lateLimit = now - this.lateToleranceMs;
    for (let i = 0; i < readings.length; i++) {
      const reading = readings[i];
      const deviceId = reading.deviceId;
      if (reading.ts > futureLimit) {
        this.counters.future++;
        continue;
      }
      // A reading stamped slightly ahead counts as "now": it never moves rule time past the server clock.
      const ts = reading.ts > now ? now : reading.ts;
      const late = ts < lateLimit;
      if (late) this.counters.late++;
      for (let d = 0; d < this.deviceNoData.length; d++) {
        const c = this.deviceNoData[d];
        if (!this.inScope(c, deviceId, groupOf)) continue;
        const state = this.stateFor(c, deviceId, null, now);
        if (state) this.noDataArrival(c, state, ts, now, late);
      }
      const values = reading.values;
      for (const metric in values) {
        const rules = this.byMetric.get(metric);
        if (rules === undefined) continue;
        const value = values[metric];
        for (let r = 0; r < rules.length; r++) {
          const c = rules[r];
          if (!this.inScope(c, deviceId, groupOf)) continue;
          const rule = c.rule;
          if (rule.kind === 'nodata') {
            const state = this.stateFor(c, deviceId, metric, now);
            if (state) this.noDataArrival(c, state, ts, now, late);
            continue;
          }
          if (late) continue;
          const state = this.stateFor(c, deviceId, metric, now);
          if (state === null) continue;
          if (ts < state.lastTs) {
            this.counters.outOfOrder++;
            continue;
          }
          this.learnCadence(state, ts);
          state.lastTs = ts;
          state.lastArrival = now;
          if (rule.kind === 'threshold') this.evaluateThreshold(c, state, ts, value);
          else if (rule.kind === 'rate') this.evaluateRate(c, state, ts, value);
        }
      }
    }
  }

  /** Device status (`devices/{id}/status`, Last Will included) at server time `at`. */
  onStatus(
    deviceId: string,
    status: 'online' | 'offline',
    at: number = this.clock.now(),
    groupOf: GroupLookup = this.groupOf,
  ): void {
    const now = this.clock.now();
    if (at > now) at = now;
    if (this.deviceStatus.has(deviceId) || this.deviceStatus.size < this.maxStates)
      this.deviceStatus.set(deviceId, status);
    for (const c of this.offlineRules) {
      if (!this.inScope(c, deviceId, groupOf)) continue;
      if (status === 'offline') {
        const state = this.stateFor(c, deviceId, null, now);
        if (state === null) continue;
        if (Number.isNaN(state.offlineSince)) state.offlineSince = at;
        this.evaluateOffline(c, state, now);
      } else {
        const state = c.states.get(deviceId);
        if (!state) continue;
        state.offlineSince = Number.NaN;
        if (state.firing) this.transition(c, state, false, at);
        this.settleFlapping(state, at);
      }
    }
    if (status === 'online') {
      // Silence while offline belongs to the offline rule: no-data counts again from the return.
      for (const c of this.compiled.values()) {
        if (c.rule.kind !== 'nodata') continue;
        const state = c.states.get(deviceId);
        if (state && state.lastArrival < at) state.lastArrival = at;
      }
    }
  }

  /**
   * Timers: no-data silence, offline duration, `forMs` / `clearForMs` that completed
   * between readings, flap settling, idle state clean-up. Call about once a second.
   */
  tick(now: number = this.clock.now()): void {
    for (const c of this.compiled.values()) {
      const rule = c.rule;
      for (const state of c.states.values()) {
        if (rule.kind === 'nodata') this.evaluateNoData(c, state, now);
        else if (rule.kind === 'offline') this.evaluateOffline(c, state, now);
        else if (state.lastTs !== -Infinity) {
          // The last reading stands for a while (about its cadence), not forever: a silent
          // device does not complete a duration; no-data covers that.
          const hold =
            state.cadence > 0
              ? Math.min(300_000, Math.max(1000, 2.5 * state.cadence))
              : this.sampleHoldMs;
          const elapsed = Math.max(0, Math.min(now - state.lastArrival, hold));
          const at = Math.min(now, state.lastTs + elapsed);
          this.settle(c, state, at);
          if (
            state.alert === null &&
            !state.firing &&
            !state.cond &&
            now - state.lastArrival > this.idleStateMs
          ) {
            c.states.delete(state.deviceId);
            this.stateCount--;
          }
        }
      }
    }
  }

  /** Acknowledge an open alert. Acknowledging a cleared alert closes it (it leaves the active list). */
  acknowledge(
    alertId: string,
    by: string,
    at: number = this.clock.now(),
    note?: string,
  ): AckResult {
    const open = this.openById.get(alertId);
    if (!open)
      return {
        ok: false,
        error: 'not_found',
        message: `no open alert "${alertId}"`,
      };
    const event = open.event;
    if (event.acknowledgedAt !== null) {
      return {
        ok: false,
        error: 'already_acknowledged',
        message: `acknowledged by ${event.acknowledgedBy} at ${new Date(event.acknowledgedAt).toISOString()}`,
      };
    }
    const now = this.clock.now();
    event.acknowledgedAt = Math.min(at, now);
    event.acknowledgedBy = by;
    event.ackNote = note ?? null;
    event.updatedAt = event.acknowledgedAt;
    if (event.clearedAt !== null) this.close(open);
    else event.state = 'acknowledged';
    return { ok: true, alert: this.emit(open) };
  }

  // ───────────────────────────── queries ─────────────────────────────

  /** The active list, most severe first, newest first: what a new client gets as its snapshot. */
  active(): AlertEvent[] {
    const list: AlertEvent[] = [];
    for (const open of this.openById.values()) list.push({ ...open.event });
    return list.sort(
      (a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || b.raisedAt - a.raisedAt,
    );
  }

  /** One open alert by id, or null. */
  get(alertId: string): AlertEvent | null {
    const open = this.openById.get(alertId);
    return open ? { ...open.event } : null;
  }

  /** Lifecycle events, newest first, filtered (`AlertQuerySchema`, already validated). */
  history(query: Partial<AlertQuery> = {}): AlertEvent[] {
    const limit = Math.min(query.limit ?? 100, ALERT_LIMITS.maxQueryLimit);
    const from = query.from ?? -Infinity;
    const to = query.to ?? Infinity;
    const out: AlertEvent[] = [];
    const size = this.ring.length;
    for (let n = 0; n < size && out.length < limit; n++) {
      const event = this.ring[(this.ringNext - 1 - n + size) % size];
      if (query.deviceId !== undefined && event.deviceId !== query.deviceId) continue;
      if (query.ruleId !== undefined && event.ruleId !== query.ruleId) continue;
      if (query.severity !== undefined && event.severity !== query.severity) continue;
      if (query.state !== undefined && event.state !== query.state) continue;
      if (event.updatedAt < from || event.updatedAt > to) continue;
      out.push({ ...event });
    }
    return out;
  }

  stats(): AlertEngineStats {
    return {
      rules: this.ruleList.length,
      enabledRules: this.compiled.size,
      states: this.stateCount,
      active: this.openById.size,
      historySize: this.ring.length,
      ...this.counters,
    };
  }

  // ───────────────────────────── evaluation ─────────────────────────────

  private inScope(c: CompiledRule, deviceId: string, groupOf: GroupLookup): boolean {
    const scope = c.rule.scope;
    if (scope.device !== undefined) return scope.device === deviceId;
    if (scope.group !== undefined) return groupOf(deviceId) === scope.group;
    return true;
  }

  private stateFor(
    c: CompiledRule,
    deviceId: string,
    metric: string | null,
    now: number,
  ): KeyState | null {
    const existing = c.states.get(deviceId);
    if (existing !== undefined) return existing;
    if (this.stateCount >= this.maxStates) {
      this.counters.refusedStates++;
      return null;
    }
    const state: KeyState = {
      deviceId,
      metric,
      lastTs: -Infinity,
      lastArrival: now,
      lastValue: null,
      cadence: 0,
      gaps: 0,
      cond: false,
      since: -Infinity,
      firing: false,
      changedAt: -Infinity,
      raises: null,
      rt: null,
      rv: null,
      head: 0,
      offlineSince: Number.NaN,
      alert: null,
    };
    // An alert left open by an earlier version of the rule stays the one alert of this key.
    const orphan = this.openByKey.get(alertKey(c.rule.id, deviceId, metric));
    if (orphan && orphan.state === null) {
      orphan.state = state;
      state.alert = orphan;
    }
    c.states.set(deviceId, state);
    this.stateCount++;
    return state;
  }

  /** EWMA of the interval between reading timestamps; an outage gap is capped so it cannot swamp it. */
  private learnCadence(state: KeyState, ts: number): void {
    if (state.lastTs === -Infinity) return;
    let gap = ts - state.lastTs;
    if (gap <= 0) return;
    if (state.gaps === 0) state.cadence = gap;
    else {
      if (state.gaps >= CADENCE_MIN_GAPS && gap > 4 * state.cadence) gap = 4 * state.cadence;
      state.cadence += CADENCE_ALPHA * (gap - state.cadence);
    }
    state.gaps++;
  }

  private evaluateThreshold(c: CompiledRule, state: KeyState, ts: number, v: number): void {
    const rule = c.rule;
    if (rule.kind !== 'threshold') return;
    state.lastValue = v;
    let cond = state.cond;
    if (rule.op === 'above') {
      const value = rule.value as number;
      if (!cond) cond = v > value;
      else if (v < (rule.clear ?? value)) cond = false;
    } else if (rule.op === 'below') {
      const value = rule.value as number;
      if (!cond) cond = v < value;
      else if (v > (rule.clear ?? value)) cond = false;
    } else {
      const low = rule.low as number;
      const high = rule.high as number;
      if (!cond) cond = v < low || v > high;
      else if (v > (rule.clearLow ?? low) && v < (rule.clearHigh ?? high)) cond = false;
    }
    if (cond !== state.cond) {
      state.cond = cond;
      state.since = ts;
    }
    this.settle(c, state, ts);
  }

  private evaluateRate(c: CompiledRule, state: KeyState, ts: number, v: number): void {
    const rule = c.rule;
    if (rule.kind !== 'rate') return;
    let rt = state.rt;
    let rv = state.rv;
    if (rt === null || rv === null) {
      rt = state.rt = [];
      rv = state.rv = [];
    }
    rt.push(ts);
    rv.push(v);
    const start = ts - rule.windowMs;
    let head = state.head;
    while (head < rt.length - 1 && (rt[head] < start || rt.length - head > RATE_MAX_SAMPLES))
      head++;
    if (head > 64 && head * 2 > rt.length) {
      rt.splice(0, head);
      rv.splice(0, head);
      head = 0;
    }
    state.head = head;
    const dt = ts - rt[head];
    if (dt <= 0) return this.settle(c, state, ts); // nothing to compare with yet: keep the state
    const delta = v - rv[head];
    const rate = rule.per === 'second' ? (delta * 1000) / dt : delta;
    state.lastValue = round(rate);
    const magnitude =
      rule.direction === 'up' ? rate : rule.direction === 'down' ? -rate : Math.abs(rate);
    let cond = state.cond;
    if (!cond) cond = magnitude > rule.maxDelta;
    else if (magnitude < (rule.clear ?? rule.maxDelta)) cond = false;
    if (cond !== state.cond) {
      state.cond = cond;
      state.since = ts;
    }
    this.settle(c, state, ts);
  }

  /** Debounce: `firing` follows `cond` once it has held for forMs (raise) / clearForMs (clear). */
  private settle(c: CompiledRule, state: KeyState, at: number): void {
    if (state.cond !== state.firing) {
      const rule = c.rule;
      const hold =
        rule.kind === 'threshold' || rule.kind === 'rate'
          ? state.cond
            ? rule.forMs
            : rule.clearForMs
          : 0;
      if (at - state.since >= hold) this.transition(c, state, state.cond, at);
    }
    this.settleFlapping(state, at);
  }

  private noDataArrival(
    c: CompiledRule,
    state: KeyState,
    ts: number,
    now: number,
    late: boolean,
  ): void {
    if (!late && ts >= state.lastTs) {
      this.learnCadence(state, ts);
      state.lastTs = ts;
    }
    if (state.firing) {
      state.lastValue = now - state.lastArrival; // the whole silence, reported with the clear
      state.lastArrival = now;
      this.transition(c, state, false, now);
    }
    state.lastArrival = now;
    this.settleFlapping(state, now);
  }

  private noDataThreshold(c: CompiledRule, state: KeyState): number | null {
    const rule = c.rule;
    if (rule.kind !== 'nodata') return null;
    const learned =
      rule.cadenceMultiple !== undefined && state.gaps >= CADENCE_MIN_GAPS
        ? rule.cadenceMultiple * state.cadence
        : null;
    if (learned === null) return rule.silenceMs ?? null;
    return Math.max(learned, rule.silenceMs ?? 0);
  }

  private evaluateNoData(c: CompiledRule, state: KeyState, now: number): void {
    const rule = c.rule;
    if (rule.scope.group !== undefined && this.groupOf(state.deviceId) !== rule.scope.group) {
      // The device left the group: its no-data watch goes with it.
      if (state.alert && state.alert.event.clearedAt === null)
        this.clearAlert(state.alert, now, null, 'device left the group');
      if (state.alert) state.alert.state = null;
      c.states.delete(state.deviceId);
      this.stateCount--;
      return;
    }
    if (!state.firing && this.deviceStatus.get(state.deviceId) !== 'offline') {
      const threshold = this.noDataThreshold(c, state);
      const silence = now - state.lastArrival;
      if (threshold !== null && silence >= threshold) {
        state.lastValue = silence;
        this.transition(c, state, true, now);
      }
    }
    this.settleFlapping(state, now);
  }

  private evaluateOffline(c: CompiledRule, state: KeyState, now: number): void {
    const rule = c.rule;
    if (rule.kind !== 'offline') return;
    if (
      !state.firing &&
      !Number.isNaN(state.offlineSince) &&
      now - state.offlineSince >= rule.forMs
    ) {
      this.transition(c, state, true, state.offlineSince + rule.forMs);
    }
    this.settleFlapping(state, now);
  }

  // ───────────────────────────── lifecycle ─────────────────────────────

  /** A debounced raise (`firing` true) or clear, with flap detection in between. */
  private transition(c: CompiledRule, state: KeyState, firing: boolean, at: number): void {
    state.firing = firing;
    state.changedAt = at;
    const open = state.alert;
    if (!firing) {
      if (open && !open.event.flapping && open.event.clearedAt === null)
        this.clearAlert(open, at, state.lastValue, null);
      return;
    }
    const raises = state.raises ?? (state.raises = []);
    raises.push(at);
    if (raises.length > this.flapMaxRaises + 1) raises.shift();
    let recent = 0;
    for (const t of raises) if (t >= at - this.flapWindowMs) recent++;
    const flapping = recent > this.flapMaxRaises;
    if (open && open.event.flapping) {
      open.event.value = state.lastValue; // still flapping: no event
      return;
    }
    if (open === null) {
      state.alert = this.openAlert(c, state, at, flapping);
      this.emit(state.alert);
      return;
    }
    const event = open.event;
    const wasCleared = event.clearedAt !== null;
    if (!wasCleared && !flapping) return; // still raised: never a second alert for the key
    this.describe(c, state, event);
    if (wasCleared) {
      // The condition returned before anyone acknowledged the clear: the same alert again.
      event.count++;
      event.raisedAt = at;
      event.clearedAt = null;
    }
    event.updatedAt = at;
    event.flapping = flapping;
    event.state = event.acknowledgedAt !== null ? 'acknowledged' : flapping ? 'flapping' : 'raised';
    this.emit(open);
  }

  /** A flapping alert settles once its condition has stayed put for flapQuietMs. */
  private settleFlapping(state: KeyState, at: number): void {
    const open = state.alert;
    if (open === null || !open.event.flapping || at - state.changedAt < this.flapQuietMs) return;
    const event = open.event;
    event.flapping = false;
    if (!state.firing) {
      this.clearAlert(open, at, state.lastValue, null);
      return;
    }
    event.state = event.acknowledgedAt !== null ? 'acknowledged' : 'raised';
    event.updatedAt = at;
    this.emit(open);
  }

  private openAlert(c: CompiledRule, state: KeyState, at: number, flapping: boolean): OpenAlert {
    const rule = c.rule;
    const event: AlertEvent = {
      id: this.idPrefix + (++this.seq).toString(36),
      ruleId: rule.id,
      deviceId: state.deviceId,
      metric: state.metric,
      severity: rule.severity,
      state: flapping ? 'flapping' : 'raised',
      message: '',
      value: null,
      raisedAt: at,
      acknowledgedAt: null,
      acknowledgedBy: null,
      clearedAt: null,
      ruleName: c.name,
      threshold: null,
      updatedAt: at,
      flapping,
      count: 1,
      active: true,
      ackNote: null,
    };
    this.describe(c, state, event);
    const open: OpenAlert = {
      event,
      key: alertKey(rule.id, state.deviceId, state.metric),
      state,
    };
    this.openById.set(event.id, open);
    this.openByKey.set(open.key, open);
    return open;
  }

  /** Message, value and level of a raise (cold path: only on lifecycle changes). */
  private describe(c: CompiledRule, state: KeyState, event: AlertEvent): void {
    const rule = c.rule;
    const v = state.lastValue;
    event.severity = rule.severity;
    event.ruleName = c.name;
    event.value = v;
    const forText = 'forMs' in rule && rule.forMs > 0 ? ` for ${seconds(rule.forMs)}` : '';
    switch (rule.kind) {
      case 'threshold': {
        if (rule.op === 'outside') {
          const low = rule.low as number;
          const high = rule.high as number;
          event.threshold = v !== null && v <= (low + high) / 2 ? low : high;
          event.message = `${c.name}: ${rule.metric} ${fmt(v)} outside ${low}…${high}${forText}`;
        } else {
          event.threshold = rule.value as number;
          event.message = `${c.name}: ${rule.metric} ${fmt(v)} ${rule.op} ${rule.value}${forText}`;
        }
        break;
      }
      case 'rate': {
        const unit = rule.per === 'second' ? '/s' : ` in ${seconds(rule.windowMs)}`;
        event.threshold = rule.maxDelta;
        event.message = `${c.name}: ${rule.metric} changed by ${fmt(v)}${unit} (limit ${rule.maxDelta}${unit})${forText}`;
        break;
      }
      case 'nodata': {
        event.threshold = this.noDataThreshold(c, state);
        event.message = `${c.name}: no ${rule.metric ?? 'data'} for ${seconds(v ?? 0)}`;
        break;
      }
      case 'offline':
        event.threshold = null;
        event.value = null;
        event.message = `${c.name}: device offline${forText}`;
        break;
    }
  }

  private clearAlert(
    open: OpenAlert,
    at: number,
    value: number | null,
    reason: string | null,
  ): void {
    const event = open.event;
    event.state = 'cleared';
    event.clearedAt = at;
    event.updatedAt = at;
    event.flapping = false;
    if (value !== null) event.value = value;
    if (reason !== null) event.message = `${event.message} (${reason})`;
    if (event.acknowledgedAt !== null) this.close(open);
    this.emit(open);
  }

  /** Cleared and acknowledged: off the active list; the key may open a new alert. */
  private close(open: OpenAlert): void {
    open.event.active = false;
    this.openById.delete(open.event.id);
    if (this.openByKey.get(open.key) === open) this.openByKey.delete(open.key);
    if (open.state && open.state.alert === open) open.state.alert = null;
    open.state = null;
  }

  private emit(open: OpenAlert): AlertEvent {
    const snapshot = { ...open.event };
    this.counters.events++;
    if (this.ring.length < this.maxHistory) this.ring.push(snapshot);
    else this.ring[this.ringNext] = snapshot;
    this.ringNext = (this.ringNext + 1) % this.maxHistory;
    for (const listener of this.listeners) {
      try {
        listener({ ...snapshot });
      } catch {
        // A listener's failure must not stop evaluation; counted in stats().
        this.counters.listenerErrors++;
      }
    }
    return { ...snapshot };
  }
}

function alertKey(ruleId: string, deviceId: string, metric: string | null): string {
  return `${ruleId}\u0000${deviceId}\u0000${metric ?? ''}`;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function fmt(value: number | null): string {
  if (value === null) return '—';
  return String(round(value));
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
