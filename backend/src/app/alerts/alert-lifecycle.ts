import { ALERT_SEVERITIES, AckResponse, AlertEvent, AlertSeverity } from '@pulse/protocol';
import { describeAlert } from './alert-describe';
import { AlertHistory } from './alert-history';
import { AlertTransitions, CompiledRule, KeyState, OpenAlert, alertKey } from './alert-state';

/**
 * The life of an alert (ISA-18.2 style): raised → acknowledged → cleared. Owns the open
 * alerts (by id and by rule × device × metric key), the debounce from condition to firing
 * (`forMs` / `clearForMs`), flap detection and settling, acknowledgement, and the report of
 * every change to the history. A cleared alert that nobody acknowledged stays on the active
 * list until someone does; if its condition returns first, the same alert is raised again
 * (`count` + 1), so there is at most one open alert per key. Must not evaluate readings or
 * keep rule state: evaluators decide conditions, the rule index owns the states.
 */

export interface FlapOptions {
  /** Flap detection window, ms. */
  flapWindowMs: number;
  /** More raises than this inside the window mark the alert flapping (at least 1). */
  flapMaxRaises: number;
  /** A flapping alert settles after its condition stays put this long, ms. */
  flapQuietMs: number;
}

const SEVERITY_RANK: Record<AlertSeverity, number> = Object.fromEntries(
  ALERT_SEVERITIES.map((severity, i) => [severity, i]),
) as Record<AlertSeverity, number>;

/** The active list's order: most severe first, newest first. */
export const byActiveOrder = (a: AlertEvent, b: AlertEvent): number =>
  SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || b.raisedAt - a.raisedAt;

export class AlertLifecycle implements AlertTransitions {
  private readonly openById = new Map<string, OpenAlert>();
  private readonly openByKey = new Map<string, OpenAlert>();
  private seq = 0;

  /** `idPrefix` keeps ids unique across restarts (the engine passes its start time). */
  constructor(
    private readonly flap: FlapOptions,
    private readonly history: AlertHistory,
    private readonly idPrefix: string,
  ) {}

  /** Alerts on the active list. */
  get size(): number {
    return this.openById.size;
  }

  /** The active list, most severe first, newest first: what a new client gets as its snapshot. */
  active(): AlertEvent[] {
    const list: AlertEvent[] = [];
    for (const open of this.openById.values()) list.push({ ...open.event });
    return list.sort(byActiveOrder);
  }

  /**
   * Acknowledge an open alert at `at` (never after `now`). Acknowledging a cleared alert
   * closes it (it leaves the active list).
   */
  /** The device of an open alert, or undefined (unknown or closed). */
  deviceOf(alertId: string): string | undefined {
    return this.openById.get(alertId)?.event.deviceId;
  }

  acknowledge(
    alertId: string,
    by: string,
    at: number,
    now: number,
    note: string | undefined,
  ): AckResponse {
    const open = this.openById.get(alertId);
    if (!open) return { ok: false, error: 'not_found', message: `no open alert "${alertId}"` };
    const event = open.event;
    if (event.acknowledgedAt !== null) {
      return {
        ok: false,
        error: 'already_acknowledged',
        message: `acknowledged by ${event.acknowledgedBy} at ${new Date(event.acknowledgedAt).toISOString()}`,
      };
    }
    event.acknowledgedAt = Math.min(at, now);
    event.acknowledgedBy = by;
    event.ackNote = note ?? null;
    event.updatedAt = event.acknowledgedAt;
    if (event.clearedAt !== null) this.close(open);
    else event.state = 'acknowledged';
    return { ok: true, alert: this.history.record(open.event) };
  }

  /**
   * A new state takes over the alert an earlier version of its rule (of the same kind) left
   * open, if any, or one restored after a restart. A restored alert still raised (never cleared) takes the state
   * with it: the condition is held as true since the raise, so the next reading over the
   * threshold is the same episode (no second raise) and the next one under it clears it.
   */
  adopt(c: CompiledRule, state: KeyState): void {
    const orphan = this.openByKey.get(alertKey(c.rule.id, state.deviceId, state.metric));
    // Of another kind, the id was reused for another rule: not the same episode (the orphan
    // clears with its reason and waits for acknowledgement; the new rule raises its own).
    if (orphan && orphan.state === null && orphan.event.kind === c.rule.kind) {
      orphan.state = state;
      state.alert = orphan;
      // Only a restored alert is unowned and not cleared: detach() clears what it orphans.
      if (orphan.event.clearedAt === null) {
        state.cond = state.firing = true;
        state.since = state.changedAt = orphan.event.raisedAt;
        state.lastValue = orphan.event.value;
      }
    }
  }

  /**
   * Boot: an alert that was on the active list before a restart, back on it unowned, as it
   * was (acknowledgement included), until its rule's state for the device adopts it.
   */
  restore(event: AlertEvent): void {
    const key = alertKey(event.ruleId, event.deviceId, event.metric);
    if (this.openById.has(event.id) || this.openByKey.has(key)) return;
    const open: OpenAlert = { event: { ...event }, key, state: null };
    this.openById.set(event.id, open);
    this.openByKey.set(key, open);
  }

  /**
   * The alerts of the devices `gone` picks leave the active list without an event: another
   * gateway owns them now (decision 0029) and adopts them from the shared store.
   */
  release(gone: (deviceId: string) => boolean): void {
    for (const open of [...this.openById.values()]) {
      if (!gone(open.event.deviceId)) continue;
      this.openById.delete(open.event.id);
      if (this.openByKey.get(open.key) === open) this.openByKey.delete(open.key);
      if (open.state && open.state.alert === open) open.state.alert = null;
      open.state = null;
    }
  }

  /**
   * Restored alerts no state adopted (their rule is gone, disabled or no longer covers the
   * device) clear with `reason`, as a rule change does, and wait for acknowledgement.
   */
  clearUnowned(at: number, reason: string): void {
    for (const open of [...this.openById.values()]) {
      if (open.state === null && open.event.clearedAt === null)
        this.clearAlert(open, at, null, reason);
    }
  }

  /**
   * The state's rule changed or went, or the device left its scope: its open alert clears
   * with `reason` and waits, unowned, for acknowledgement or for a successor to adopt it.
   */
  detach(state: KeyState, at: number, reason: string): void {
    const open = state.alert;
    if (open === null) return;
    open.state = null;
    if (open.event.clearedAt === null) this.clearAlert(open, at, null, reason);
  }

  /**
   * The state's device is gone (evicted from the registry): its open alert clears with `reason`
   * and leaves the active list at once, acknowledged or not. Nothing will ever clear or adopt it
   * again, and a flood of made-up devices would otherwise fill the list with such alerts; the
   * history keeps the event.
   */
  retire(state: KeyState, at: number, reason: string): void {
    const open = state.alert;
    if (open === null) return;
    this.close(open);
    if (open.event.clearedAt === null) return this.clearAlert(open, at, null, reason);
    open.event.message = `${open.event.message} (${reason})`;
    open.event.updatedAt = at;
    this.history.record(open.event);
  }

  debounce(c: CompiledRule, state: KeyState, cond: boolean, at: number): void {
    if (cond !== state.cond) {
      state.cond = cond;
      state.since = at;
    }
    this.settle(c, state, at);
  }

  /** Debounce: `firing` follows `cond` once it has held for forMs (raise) / clearForMs (clear). */
  settle(c: CompiledRule, state: KeyState, at: number): void {
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

  transition(c: CompiledRule, state: KeyState, firing: boolean, at: number): void {
    state.firing = firing;
    state.changedAt = at;
    const open = state.alert;
    if (!firing) {
      if (open && !open.event.flapping && open.event.clearedAt === null)
        this.clearAlert(open, at, state.lastValue, null);
      return;
    }
    const maxRaises = this.flap.flapMaxRaises;
    const raises = state.raises ?? (state.raises = []);
    raises.push(at);
    if (raises.length > maxRaises + 1) raises.shift();
    let recent = 0;
    for (const t of raises) if (t >= at - this.flap.flapWindowMs) recent++;
    const flapping = recent > maxRaises;
    if (open && open.event.flapping) {
      open.event.value = state.lastValue; // still flapping: no event
      return;
    }
    if (open === null) {
      state.alert = this.openAlert(c, state, at, flapping);
      this.history.record(state.alert.event);
      return;
    }
    const event = open.event;
    const wasCleared = event.clearedAt !== null;
    if (!wasCleared && !flapping) return; // still raised: never a second alert for the key
    describeAlert(c, state, event);
    if (wasCleared) {
      // The condition returned before anyone acknowledged the clear: the same alert again.
      event.count++;
      event.raisedAt = at;
      event.clearedAt = null;
    }
    event.updatedAt = at;
    event.flapping = flapping;
    event.state = event.acknowledgedAt !== null ? 'acknowledged' : flapping ? 'flapping' : 'raised';
    this.history.record(event);
  }

  settleFlapping(state: KeyState, at: number): void {
    const open = state.alert;
    if (open === null || !open.event.flapping || at - state.changedAt < this.flap.flapQuietMs)
      return;
    const event = open.event;
    event.flapping = false;
    if (!state.firing) {
      this.clearAlert(open, at, state.lastValue, null);
      return;
    }
    event.state = event.acknowledgedAt !== null ? 'acknowledged' : 'raised';
    event.updatedAt = at;
    this.history.record(event);
  }

  private openAlert(c: CompiledRule, state: KeyState, at: number, flapping: boolean): OpenAlert {
    const rule = c.rule;
    const event: AlertEvent = {
      id: this.idPrefix + (++this.seq).toString(36),
      ruleId: rule.id,
      kind: rule.kind,
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
    describeAlert(c, state, event);
    const open: OpenAlert = { event, key: alertKey(rule.id, state.deviceId, state.metric), state };
    this.openById.set(event.id, open);
    this.openByKey.set(open.key, open);
    return open;
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
    this.history.record(event);
  }

  /** Cleared and acknowledged: off the active list; the key may open a new alert. */
  private close(open: OpenAlert): void {
    open.event.active = false;
    this.openById.delete(open.event.id);
    if (this.openByKey.get(open.key) === open) this.openByKey.delete(open.key);
    if (open.state && open.state.alert === open) open.state.alert = null;
    open.state = null;
  }
}
