import {
  AckResponse,
  AlertEvent,
  AlertQuery,
  AlertRule,
  AlertStats,
  Clock,
  LIMITS,
  Reading,
  systemClock,
} from '@pulse/protocol';
import { CADENCE_MIN_GAPS, learnCadence } from '../common/cadence';
import { AlertHistory, AlertListener } from './alert-history';
import { AlertLifecycle } from './alert-lifecycle';
import { AlertRuleIndex, inScope } from './alert-rule-index';
import { GroupLookup, KeyState } from './alert-state';
import { noDataArrival, evaluateNoData } from './nodata.evaluator';
import { deviceCameOnline, deviceWentOffline, evaluateOffline } from './offline.evaluator';
import { evaluateRate } from './rate.evaluator';
import { evaluateThreshold } from './threshold.evaluator';

/**
 * Why a gone device's open alerts ended, as their message says (`… (device removed)`): the
 * history tells an alert that ended because its device left the registry from one whose
 * condition cleared.
 */
export const GONE_REASONS = {
  evicted: 'device evicted (idle, room needed for other devices)',
  removed: 'device removed',
} as const;

export type { GroupLookup } from './alert-state';
export type { AlertListener } from './alert-history';

/**
 * The alert engine: pure, synchronous, no Nest / socket / MQTT. Fed decoded readings and
 * device status, driven by `tick()` for timers, it raises, clears and tracks alerts and
 * reports every lifecycle change as an {@link AlertEvent}.
 *
 * This file is the coordinator: it owns the inputs (the per-reading loop, status, the timer
 * tick), the reading-time rules below and the stats, and wires the pieces — the rule index
 * (`alert-rule-index.ts`), one evaluator per rule kind (`*.evaluator.ts`), the lifecycle with
 * flap handling (`alert-lifecycle.ts`) and the event history (`alert-history.ts`). It must not
 * take over their jobs: no condition logic, no alert records, no event storage here.
 *
 * Time: threshold and rate rules run on reading timestamps (clamped to the server clock, so a
 * reading stamped ahead can never move time forward); no-data and offline run on the server
 * clock, which is the only clock that knows a device is silent.
 */

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
}

/** The engine's counters: the `alerts` block of `GET /api/stats` minus what the service adds. */
export type AlertEngineStats = Omit<AlertStats, 'rulesSaved' | 'ruleConflicts'>;

export class AlertEngine {
  private readonly maxStates: number;
  private readonly futureToleranceMs: number;
  private readonly lateToleranceMs: number;
  private readonly sampleHoldMs: number;
  private readonly idleStateMs: number;
  private readonly groupOf: GroupLookup;

  private readonly log: AlertHistory;
  private readonly lifecycle: AlertLifecycle;
  private readonly index: AlertRuleIndex;
  private readonly deviceStatus = new Map<string, 'online' | 'offline'>();
  private readonly counters = { outOfOrder: 0, late: 0, future: 0 };

  constructor(
    private readonly clock: Clock = systemClock,
    options: AlertEngineOptions = {},
  ) {
    this.maxStates = options.maxStates ?? 100_000;
    this.futureToleranceMs = options.futureToleranceMs ?? LIMITS.maxFutureSkewMs;
    this.lateToleranceMs = options.lateToleranceMs ?? 300_000;
    this.sampleHoldMs = options.sampleHoldMs ?? 5_000;
    this.idleStateMs = options.idleStateMs ?? 3_600_000;
    this.groupOf = options.groupOf ?? (() => undefined);
    this.log = new AlertHistory(Math.max(1, options.maxHistory ?? 10_000));
    // Ids stay unique across restarts: the start time, then a counter.
    this.lifecycle = new AlertLifecycle(
      {
        flapWindowMs: options.flapWindowMs ?? 600_000,
        flapMaxRaises: Math.max(1, options.flapMaxRaises ?? 5),
        flapQuietMs: options.flapQuietMs ?? 60_000,
      },
      this.log,
      `al-${clock().toString(36)}-`,
    );
    this.index = new AlertRuleIndex(this.maxStates, (c, state) => this.lifecycle.adopt(c, state));
  }

  /** Listen to lifecycle events; returns the unsubscribe function. Listeners must be quick. */
  onAlert(listener: AlertListener): () => void {
    return this.log.onAlert(listener);
  }

  // ───────────────────────────── rules ─────────────────────────────

  /** The current rules, as given (disabled ones included). */
  rules(): AlertRule[] {
    return this.index.rules();
  }

  /**
   * Replace the rule set (validated `AlertRule`s, ids unique). Unchanged rules keep their
   * state; open alerts of changed, disabled or removed rules are cleared (and stay visible
   * until acknowledged, like any cleared alert).
   */
  setRules(rules: readonly AlertRule[]): void {
    const now = this.clock();
    this.index.replace(rules, now, (state, reason) => this.lifecycle.detach(state, now, reason));
    // A new or changed offline rule also watches devices that are offline right now.
    for (const c of this.index.offlineRules) {
      if (c.states.size !== 0) continue;
      for (const [deviceId, status] of this.deviceStatus) {
        if (status !== 'offline' || !inScope(c, deviceId, this.groupOf)) continue;
        const state = this.index.stateFor(c, deviceId, null, now);
        if (state) state.offlineSince = now;
      }
    }
  }

  // ───────────────────────────── inputs ─────────────────────────────

  /**
   * Evaluate decoded readings (the hot path): each metric only touches the rules on that
   * metric, O(1) per matching rule. Readings older than the newest evaluated one for a
   * rule × device are ignored (out of order); late ones only count as signs of life.
   */
  onReadings(readings: readonly Reading[], groupOf: GroupLookup = this.groupOf): void {
    const index = this.index;
    if (index.compiled.size === 0) return;
    const lifecycle = this.lifecycle;
    const now = this.clock();
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
      for (let d = 0; d < index.deviceNoData.length; d++) {
        const c = index.deviceNoData[d];
        if (!inScope(c, deviceId, groupOf)) continue;
        const state = index.stateFor(c, deviceId, null, now);
        if (state) noDataArrival(lifecycle, c, state, ts, now, late);
      }
      const values = reading.values;
      for (const metric in values) {
        const rules = index.byMetric.get(metric);
        if (rules === undefined) continue;
        const value = values[metric];
        for (let r = 0; r < rules.length; r++) {
          const c = rules[r];
          if (!inScope(c, deviceId, groupOf)) continue;
          const kind = c.rule.kind;
          if (kind === 'nodata') {
            const state = index.stateFor(c, deviceId, metric, now);
            if (state) noDataArrival(lifecycle, c, state, ts, now, late);
            continue;
          }
          if (late) continue;
          const state = index.stateFor(c, deviceId, metric, now);
          if (state === null) continue;
          if (ts < state.lastTs) {
            this.counters.outOfOrder++;
            continue;
          }
          learnCadence(state, ts);
          state.lastTs = ts;
          state.lastArrival = now;
          if (kind === 'threshold') evaluateThreshold(lifecycle, c, state, ts, value);
          else if (kind === 'rate') evaluateRate(lifecycle, c, state, ts, value);
        }
      }
    }
  }

  /** Device status (`devices/{id}/status`, Last Will included) at server time `at`. */
  onStatus(
    deviceId: string,
    status: 'online' | 'offline',
    at: number = this.clock(),
    groupOf: GroupLookup = this.groupOf,
  ): void {
    const now = this.clock();
    if (at > now) at = now;
    if (this.deviceStatus.has(deviceId) || this.deviceStatus.size < this.maxStates)
      this.deviceStatus.set(deviceId, status);
    for (const c of this.index.offlineRules) {
      if (!inScope(c, deviceId, groupOf)) continue;
      if (status === 'offline') {
        const state = this.index.stateFor(c, deviceId, null, now);
        if (state !== null) deviceWentOffline(this.lifecycle, c, state, at, now);
      } else {
        const state = c.states.get(deviceId);
        if (state) deviceCameOnline(this.lifecycle, c, state, at);
      }
    }
    if (status === 'online') {
      // Silence while offline belongs to the offline rule: no-data counts again from the return.
      for (const c of this.index.compiled.values()) {
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
  tick(now: number = this.clock()): void {
    for (const c of this.index.compiled.values()) {
      const rule = c.rule;
      for (const state of c.states.values()) {
        if (rule.kind === 'nodata') {
          if (rule.scope.group !== undefined && this.groupOf(state.deviceId) !== rule.scope.group) {
            // The device left the group: its no-data watch goes with it.
            this.lifecycle.detach(state, now, 'device left the group');
            this.index.dropState(c, state);
          } else {
            const offline = this.deviceStatus.get(state.deviceId) === 'offline';
            evaluateNoData(this.lifecycle, c, state, now, offline);
          }
        } else if (rule.kind === 'offline') evaluateOffline(this.lifecycle, c, state, now);
        else if (state.lastTs !== -Infinity) {
          this.lifecycle.settle(c, state, this.heldUntil(state, now));
          if (
            state.alert === null &&
            !state.firing &&
            !state.cond &&
            now - state.lastArrival > this.idleStateMs
          )
            this.index.dropState(c, state);
        }
      }
    }
  }

  /**
   * A device is gone (evicted from the registry, or removed by an admin): every state it has
   * goes, so its no-data and offline rules stop watching it, and its alerts are cleared with
   * `reason` (see {@link GONE_REASONS}) and leave the active list (AlertLifecycle.retire).
   */
  forgetDevice(
    deviceId: string,
    reason: string = GONE_REASONS.evicted,
    now: number = this.clock(),
  ): void {
    this.deviceStatus.delete(deviceId);
    for (const c of this.index.compiled.values()) {
      const state = c.states.get(deviceId);
      if (state === undefined) continue;
      this.lifecycle.retire(state, now, reason);
      this.index.dropState(c, state);
    }
  }

  /**
   * Boot: the history and the active list kept before a restart. Each restored alert is taken
   * over by its rule's state for the device (created now), so it is the same episode: no
   * second raise while the condition holds, and it clears when the condition ends (see
   * AlertLifecycle.adopt). One whose rule no longer applies clears with the reason.
   */
  restore(history: readonly AlertEvent[], open: readonly AlertEvent[]): void {
    this.log.restore(history);
    this.adopt(open, 'rule changed or removed while the gateway was down');
  }

  /**
   * Open alerts another run or another gateway left in the store, taken over as at boot
   * ({@link restore}): a gateway that came to own their devices (decision 0029) carries the
   * same episodes on. `reason`: why one whose rule no longer applies is cleared.
   */
  adopt(open: readonly AlertEvent[], reason: string): void {
    const now = this.clock();
    for (const event of open) this.lifecycle.restore(event);
    for (const event of open) {
      const c = this.index.compiled.get(event.ruleId);
      if (c && inScope(c, event.deviceId, this.groupOf))
        this.index.stateFor(c, event.deviceId, event.metric, now);
    }
    this.lifecycle.clearUnowned(now, reason);
  }

  /**
   * Every state, open alert and status of the devices `gone` picks leaves the engine without an
   * event: another gateway owns them now and carries their alerts on from the shared store.
   */
  release(gone: (deviceId: string) => boolean): void {
    this.lifecycle.release(gone);
    this.index.dropStatesWhere(gone);
    for (const deviceId of this.deviceStatus.keys())
      if (gone(deviceId)) this.deviceStatus.delete(deviceId);
  }

  /**
   * Boot: a device the registry kept across the restart is watched by its no-data rules from
   * now, as if it had just spoken, so one that never speaks again still raises "no data"
   * (otherwise only a reading creates the watch); its device-wide rules judge the silence by
   * `pace`, the one it reported at before (the registry keeps it), when known. One heard before
   * (`lastTs`, its newest reading's time) without a pace is judged as heard once, as it was
   * before the restart (`unknownPaceMs`, decision 0066), not at the floor: every event-driven
   * sensor heard once raised "No data" 10 s after each boot. Its offline time is restored by the
   * caller through {@link onStatus}.
   */
  watchRestored(
    deviceId: string,
    metrics: readonly string[],
    pace: number | null = null,
    lastTs: number | null = null,
  ): void {
    const now = this.clock();
    const heard = (state: KeyState | null) => {
      if (state && lastTs !== null && state.gaps === 0 && state.lastTs === -Infinity)
        state.lastTs = lastTs;
    };
    for (const c of this.index.deviceNoData) {
      if (!inScope(c, deviceId, this.groupOf)) continue;
      const state = this.index.stateFor(c, deviceId, null, now);
      // Its pace from before the restart: a device that reports every 5 minutes is judged by that,
      // not at the rule's floor (every Tasmota plug raised "No data" 10 s after each boot).
      if (state && pace !== null && state.gaps === 0) {
        state.cadence = pace;
        state.gaps = CADENCE_MIN_GAPS;
      } else heard(state);
    }
    for (const metric of metrics) {
      for (const c of this.index.byMetric.get(metric) ?? []) {
        if (c.rule.kind === 'nodata' && inScope(c, deviceId, this.groupOf))
          heard(this.index.stateFor(c, deviceId, metric, now));
      }
    }
  }

  /** Acknowledge an open alert. Acknowledging a cleared alert closes it (it leaves the active list). */
  acknowledge(alertId: string, by: string, at: number = this.clock(), note?: string): AckResponse {
    return this.lifecycle.acknowledge(alertId, by, at, this.clock(), note);
  }

  /** The device of an open alert, or undefined. */
  deviceOf(alertId: string): string | undefined {
    return this.lifecycle.deviceOf(alertId);
  }

  // ───────────────────────────── queries ─────────────────────────────

  /** The active list, most severe first, newest first: what a new client gets as its snapshot. */
  active(): AlertEvent[] {
    return this.lifecycle.active();
  }

  /** Lifecycle events, newest first, filtered (`AlertQuerySchema`, already validated). */
  history(query: Partial<AlertQuery> = {}, keep?: (event: AlertEvent) => boolean): AlertEvent[] {
    return this.log.query(query, keep);
  }

  stats(): AlertEngineStats {
    return {
      rules: this.index.rules().length,
      enabledRules: this.index.compiled.size,
      states: this.index.stateCount,
      active: this.lifecycle.size,
      historySize: this.log.size,
      refusedStates: this.index.refusedStates,
      ...this.counters,
      events: this.log.events,
      listenerErrors: this.log.listenerErrors,
    };
  }

  /**
   * Reading time a threshold / rate state has reached at server time `now`: the last reading
   * stands for a while (about its cadence), not forever, so a silent device does not complete
   * a duration; no-data covers that.
   */
  private heldUntil(state: KeyState, now: number): number {
    const hold =
      state.cadence > 0
        ? Math.min(300_000, Math.max(1000, 2.5 * state.cadence))
        : this.sampleHoldMs;
    const elapsed = Math.max(0, Math.min(now - state.lastArrival, hold));
    return Math.min(now, state.lastTs + elapsed);
  }
}
