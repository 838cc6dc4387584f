import { AlertRule } from '@pulse/protocol';
import { CompiledRule, GroupLookup, KeyState, newKeyState } from './alert-state';

/**
 * The rule set and where each rule applies: owns the rules as given, the enabled ones
 * compiled with their per-device states, the hot-path index (metric → rules on it), the
 * device-wide no-data and offline lists, and the bound on states. Must not evaluate, raise
 * or clear anything: when a rule changes it hands the old states to the caller to retire.
 */
export class AlertRuleIndex {
  private ruleList: AlertRule[] = [];
  /** Enabled rules by id. The fields below are read by the engine, written only by `replace`. */
  compiled = new Map<string, CompiledRule>();
  /** Hot-path index: metric → enabled rules on that metric (threshold, rate, no-data on it). */
  byMetric = new Map<string, CompiledRule[]>();
  /** Enabled no-data rules without a metric (any reading counts). */
  deviceNoData: CompiledRule[] = [];
  offlineRules: CompiledRule[] = [];
  /** States held across all rules. */
  stateCount = 0;
  /** States refused at the bound. */
  refusedStates = 0;

  /**
   * `maxStates`: states kept at most; `onNewState`: told of every state created, so an
   * alert left open by an earlier version of the rule finds its way back to it.
   */
  constructor(
    private readonly maxStates: number,
    private readonly onNewState: (c: CompiledRule, state: KeyState) => void,
  ) {}

  /** The current rules, as given (disabled ones included). */
  rules(): AlertRule[] {
    return this.ruleList.slice();
  }

  /**
   * Replace the rule set (validated, ids unique, else nothing changes). Unchanged rules keep
   * their states; each state of a changed, disabled or removed rule goes to `retire` with the
   * reason. An edited rule keeps what was learned about each device (timing, cadence,
   * offline since), so editing a rule never blinds it; its conditions start afresh.
   * The rules are frozen, deeply: a rule's entity tag is cached by object (rule-etag.ts), which
   * is sound only while no one changes a rule in place; a change is a new object.
   */
  replace(
    rules: readonly AlertRule[],
    now: number,
    retire: (state: KeyState, reason: string) => void,
  ): void {
    const next = new Map<string, CompiledRule>();
    for (const rule of rules) {
      if (next.has(rule.id)) throw new Error(`duplicate rule id "${rule.id}"`);
      const old = this.compiled.get(rule.id);
      if (old && rule.enabled && JSON.stringify(old.rule) === JSON.stringify(rule)) {
        next.set(rule.id, old);
      } else if (rule.enabled) {
        next.set(rule.id, { rule, name: rule.name ?? rule.id, states: new Map() });
      }
    }
    for (const [id, old] of this.compiled) {
      if (next.get(id) === old) continue;
      const reason = rules.some((r) => r.id === id && r.enabled)
        ? 'rule changed'
        : 'rule removed or disabled';
      const successor = next.get(id);
      for (const state of old.states.values()) retire(state, reason);
      this.stateCount -= old.states.size;
      if (successor) this.carryOver(old, successor, now);
      old.states.clear();
    }
    this.compiled = next;
    this.ruleList = rules.map(deepFreeze);
    this.byMetric = new Map();
    this.deviceNoData = [];
    this.offlineRules = [];
    for (const c of next.values()) {
      const rule = c.rule;
      if (rule.kind === 'offline') this.offlineRules.push(c);
      else if (rule.kind === 'nodata' && rule.metric === undefined) this.deviceNoData.push(c);
      else {
        const metric = rule.metric as string;
        const list = this.byMetric.get(metric);
        if (list) list.push(c);
        else this.byMetric.set(metric, [c]);
      }
    }
  }

  /** The state of a rule × device, created on first use; null (and counted) at the bound. */
  stateFor(c: CompiledRule, deviceId: string, metric: string | null, now: number): KeyState | null {
    const existing = c.states.get(deviceId);
    if (existing !== undefined) return existing;
    if (this.stateCount >= this.maxStates) {
      this.refusedStates++;
      return null;
    }
    const state = newKeyState(deviceId, metric, now);
    this.onNewState(c, state);
    c.states.set(deviceId, state);
    this.stateCount++;
    return state;
  }

  /** Forget a state (idle, or its device left the rule's scope). */
  dropState(c: CompiledRule, state: KeyState): void {
    c.states.delete(state.deviceId);
    this.stateCount--;
  }

  /** Drop every state of the devices `gone` picks (device ownership moved, decision 0029). */
  dropStatesWhere(gone: (deviceId: string) => boolean): void {
    for (const c of this.compiled.values())
      for (const state of c.states.values()) if (gone(state.deviceId)) this.dropState(c, state);
  }

  private carryOver(old: CompiledRule, successor: CompiledRule, now: number): void {
    const metric = successor.rule.kind === 'offline' ? null : (successor.rule.metric ?? null);
    for (const state of old.states.values()) {
      if (state.metric !== metric) continue;
      const fresh = this.stateFor(successor, state.deviceId, metric, now);
      if (fresh === null) break;
      fresh.lastTs = state.lastTs;
      fresh.lastArrival = state.lastArrival;
      fresh.cadence = state.cadence;
      fresh.gaps = state.gaps;
      fresh.burstStart = state.burstStart;
      if (successor.rule.kind === 'offline') fresh.offlineSince = state.offlineSince;
    }
  }
}

/** Whether a rule applies to a device: one device, a group (looked up now) or all. */
export function inScope(c: CompiledRule, deviceId: string, groupOf: GroupLookup): boolean {
  const scope = c.rule.scope;
  if (scope.device !== undefined) return scope.device === deviceId;
  if (scope.group !== undefined) return groupOf(deviceId) === scope.group;
  return true;
}

/** `value` and every object or array in it made read-only (a rule is small: a few levels). */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
