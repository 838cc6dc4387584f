import { AlertEvent, AlertRule, AlertRuleInput, AlertRuleSchema } from '@pulse/protocol';

import { AlertEngine, AlertEngineOptions } from '../alert-engine';

/**
 * Test harness of the alert specs (test code only, never imported by production): a real
 * engine on a hand-driven clock, with the readings and rules the specs repeat. Owns nothing
 * the engine does; must not reach into the engine's pieces.
 */

/** The fixed start of every test's server clock. */
export const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

/** A hand-driven server clock: nothing in these tests depends on real time. */
export class ManualClock {
  t = T0;
  now(): number {
    return this.t;
  }
  advance(ms: number): number {
    return (this.t += ms);
  }
}

/** A rule as the rules file or the API would hand it over: validated, defaults filled in. */
export const rule = (input: AlertRuleInput): AlertRule => AlertRuleSchema.parse(input);

/** The service and peer specs' rule: `t` above 30 raises a major alert ({t: 40} breaks it). */
export const hot = rule({
  id: 'hot',
  kind: 'threshold',
  metric: 't',
  op: 'above',
  value: 30,
  severity: 'major',
});

/** The specs' staple: temperature above 30 raises, below 28 clears. */
export const tempAbove = (extra: Partial<AlertRuleInput> = {}): AlertRuleInput =>
  ({
    id: 'temp-high',
    kind: 'threshold',
    metric: 'temperature',
    op: 'above',
    value: 30,
    clear: 28,
    severity: 'major',
    ...extra,
  }) as AlertRuleInput;

/** An engine with `rules`, every event it reports collected, groups set by hand. */
export function setup(rules: AlertRuleInput[], options: AlertEngineOptions = {}) {
  const clock = new ManualClock();
  const events: AlertEvent[] = [];
  const groups = new Map<string, string>();
  const sut = new AlertEngine(() => clock.now(), {
    groupOf: (id) => groups.get(id),
    ...options,
  });
  sut.onAlert((event) => events.push(event));
  sut.setRules(rules.map(rule));
  /** One reading stamped `ts` (default: now) from `deviceId`. */
  const read = (values: Record<string, number>, deviceId = 'dev-1', ts = clock.now()) =>
    sut.onReadings([{ deviceId, ts, values }]);
  /** A reading per step: advance the clock, then read a value stamped now. */
  const series = (metric: string, values: number[], stepMs = 1000, deviceId = 'dev-1') => {
    for (const value of values) {
      clock.advance(stepMs);
      read({ [metric]: value }, deviceId);
    }
  };
  const states = () => events.map((e) => e.state);
  return { sut, clock, events, groups, read, series, states };
}

/** An open alert event of rule `hot` on device `dev-<id>`, as the engine emits one; `patch` on top. */
export const alertEvent = (id: string, patch: Partial<AlertEvent> = {}): AlertEvent => ({
  id,
  ruleId: 'hot',
  kind: 'threshold',
  deviceId: `dev-${id}`,
  metric: 't',
  severity: 'major',
  state: 'raised',
  message: 't above 50',
  value: 80,
  raisedAt: 1,
  acknowledgedAt: null,
  acknowledgedBy: null,
  clearedAt: null,
  ruleName: 'hot',
  threshold: 50,
  updatedAt: 1,
  flapping: false,
  count: 1,
  active: true,
  ackNote: null,
  ...patch,
});
