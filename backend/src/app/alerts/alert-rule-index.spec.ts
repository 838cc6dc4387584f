import { AlertRuleInput } from '@pulse/protocol';
import { AlertRuleIndex } from './alert-rule-index';
import { CompiledRule } from './alert-state';
import { rule, setup, tempAbove } from './testing/alert-engine.harness';

// Real: the whole engine on a hand-driven clock; these tests pin the rule index's part (which
// rules a reading touches, rule changes, the state bound).

describe('rule index: which rules a reading touches', () => {
  it('only touches rules of the metrics in a reading', () => {
    const { sut, read } = setup([tempAbove()]);
    read({ humidity: 50, pressure: 1000 });
    expect(sut.stats().states).toBe(0);
    read({ temperature: 20 });
    expect(sut.stats().states).toBe(1);
  });

  it('matches one device, a group (looked up per reading) or all', () => {
    const { groups, read, events } = setup([
      tempAbove({ id: 'one', scope: { device: 'dev-2' } }),
      tempAbove({ id: 'hall', scope: { group: 'hall-a' } }),
      tempAbove({ id: 'every' }),
    ]);
    groups.set('dev-3', 'hall-a');
    for (const id of ['dev-1', 'dev-2', 'dev-3']) read({ temperature: 50 }, id);
    expect(events.map((e) => `${e.ruleId}:${e.deviceId}`).sort()).toEqual([
      'every:dev-1',
      'every:dev-2',
      'every:dev-3',
      'hall:dev-3',
      'one:dev-2',
    ]);
  });
});

describe('rule index: rule changes', () => {
  it('freezes the rules it is given, scope included: a rule object is never changed in place (its tag is cached by object)', () => {
    const { sut } = setup([]);
    sut.setRules([rule(tempAbove({ scope: { device: 'dev-1' } }))]);
    const [held] = sut.rules();
    expect(Object.isFrozen(held)).toBe(true);
    expect(Object.isFrozen(held.scope)).toBe(true);
    expect(() => Object.assign(held, { enabled: false })).toThrow(TypeError);
  });

  it('keeps state across an unchanged rule set and clears alerts of changed or removed rules', () => {
    const offline: AlertRuleInput = {
      id: 'off',
      kind: 'offline',
      severity: 'critical',
    };
    const { sut, series, events } = setup([tempAbove(), offline]);
    series('temperature', [31]);
    sut.onStatus('dev-1', 'offline');
    sut.setRules([tempAbove(), offline].map(rule));
    expect(events).toHaveLength(2);
    sut.setRules([tempAbove({ value: 35, clear: 33 })].map(rule));
    expect(events.slice(2).map((e) => [e.ruleId, e.state, e.message])).toEqual([
      ['temp-high', 'cleared', 'temp-high: temperature 31 above 30 (rule changed)'],
      ['off', 'cleared', 'off: device offline (rule removed or disabled)'],
    ]);
    // Still unacknowledged, so still visible; the changed rule reuses the same alert.
    expect(sut.active()).toHaveLength(2);
    series('temperature', [36]);
    expect(events.at(-1)).toMatchObject({
      id: events[0].id,
      state: 'raised',
      count: 2,
      threshold: 35,
    });
    expect(sut.active()).toHaveLength(2);
  });

  it('an edited rule keeps watching: learned cadence and offline timers carry over', () => {
    const quiet: AlertRuleInput = {
      id: 'quiet',
      kind: 'nodata',
      silenceMs: 5000,
      severity: 'minor',
    };
    const off: AlertRuleInput = {
      id: 'off',
      kind: 'offline',
      forMs: 10_000,
      severity: 'critical',
    };
    const { sut, clock, read, events } = setup([quiet, off]);
    read({ a: 1 }, 'dev-1');
    sut.onStatus('dev-2', 'offline');
    clock.advance(3000);
    sut.setRules([rule({ ...quiet, silenceMs: 4000 }), rule({ ...off, severity: 'major' })]);
    sut.tick(clock.advance(1000));
    expect(events.map((e) => [e.ruleId, e.deviceId])).toEqual([['quiet', 'dev-1']]);
    sut.tick(clock.advance(6000));
    expect(events.map((e) => [e.ruleId, e.deviceId, e.severity])).toEqual([
      ['quiet', 'dev-1', 'minor'],
      ['off', 'dev-2', 'major'],
    ]);
  });

  it('a new offline rule also watches devices already offline', () => {
    const { sut, clock, events } = setup([]);
    sut.onStatus('dev-1', 'offline');
    sut.onStatus('dev-2', 'online');
    clock.advance(60_000);
    sut.setRules([rule({ id: 'off', kind: 'offline', forMs: 5000, severity: 'critical' })]);
    sut.tick(clock.advance(4000));
    expect(events).toEqual([]);
    sut.tick(clock.advance(1000));
    expect(events.map((e) => [e.deviceId, e.state])).toEqual([['dev-1', 'raised']]);
  });

  it('takes the rule set as given: order kept, a rule replaced in place or removed, ids unique', () => {
    const { sut } = setup([tempAbove(), tempAbove({ id: 'b' })]);
    sut.setRules([rule(tempAbove({ value: 50 })), rule(tempAbove({ id: 'b' }))]);
    expect(sut.rules().map((r) => [r.id, r.kind === 'threshold' && r.value])).toEqual([
      ['temp-high', 50],
      ['b', 30],
    ]);
    sut.setRules([rule(tempAbove({ value: 50 }))]);
    expect(sut.rules().map((r) => r.id)).toEqual(['temp-high']);
    expect(() => sut.setRules([rule(tempAbove()), rule(tempAbove())])).toThrow(/duplicate/);
    expect(sut.rules().map((r) => r.id)).toEqual(['temp-high']); // a refused set changes nothing
  });

  it('does not evaluate a disabled rule', () => {
    const { read, events, sut } = setup([tempAbove({ enabled: false })]);
    read({ temperature: 99 });
    expect(events).toEqual([]);
    expect(sut.stats()).toMatchObject({ rules: 1, enabledRules: 0 });
  });
});

describe('rule index: bounds', () => {
  it('refuses new states at the limit and counts them', () => {
    const { sut, read, events } = setup([tempAbove()], { maxStates: 2 });
    for (const id of ['a', 'b', 'c', 'd']) read({ temperature: 50 }, id);
    expect(events.map((e) => e.deviceId)).toEqual(['a', 'b']);
    expect(sut.stats()).toMatchObject({ states: 2, refusedStates: 2 });
  });
});

describe('AlertRuleIndex on its own', () => {
  const ignore = () => undefined;
  /** The compiled rule `id`, which the test expects to be enabled. */
  function compiled(sut: AlertRuleIndex, id: string): CompiledRule {
    const c = sut.compiled.get(id);
    if (c === undefined) throw new Error(`rule ${id} is not compiled`);
    return c;
  }

  it('indexes enabled rules by metric, and device-wide no-data and offline rules apart', () => {
    const sut = new AlertRuleIndex(10, ignore);
    const rules: AlertRuleInput[] = [
      tempAbove(),
      tempAbove({ id: 'second' }),
      tempAbove({ id: 'disabled', enabled: false }),
      { id: 'quiet', kind: 'nodata', silenceMs: 1000, severity: 'minor' },
      { id: 'stale-co2', kind: 'nodata', metric: 'co2', silenceMs: 1000, severity: 'minor' },
      { id: 'off', kind: 'offline', severity: 'critical' },
    ];
    sut.replace(rules.map(rule), 0, ignore);
    const ids = (list: CompiledRule[]) => list.map((c) => c.rule.id);
    expect([...sut.byMetric].map(([metric, list]) => [metric, ids(list)])).toEqual([
      ['temperature', ['temp-high', 'second']],
      ['co2', ['stale-co2']],
    ]);
    expect([ids(sut.deviceNoData), ids(sut.offlineRules)]).toEqual([['quiet'], ['off']]);
    expect([sut.rules().length, sut.compiled.size]).toEqual([6, 5]);
  });

  it('hands the states of changed and removed rules to retire; an edited rule keeps the learning', () => {
    const sut = new AlertRuleIndex(10, ignore);
    sut.replace([rule(tempAbove()), rule(tempAbove({ id: 'gone' }))], 0, ignore);
    const learned = sut.stateFor(compiled(sut, 'temp-high'), 'dev-1', 'temperature', 0);
    if (learned === null) throw new Error('a state under the bound must be created');
    Object.assign(learned, { cadence: 1000, gaps: 4, lastTs: 5000, cond: true });
    sut.stateFor(compiled(sut, 'gone'), 'dev-1', 'temperature', 0);
    const retired: string[] = [];
    sut.replace([rule(tempAbove({ value: 35 }))], 9000, (state, reason) =>
      retired.push(`${state.deviceId}: ${reason}`),
    );
    expect(retired).toEqual(['dev-1: rule changed', 'dev-1: rule removed or disabled']);
    expect(compiled(sut, 'temp-high').states.get('dev-1')).toMatchObject({
      cadence: 1000,
      gaps: 4,
      lastTs: 5000,
      cond: false,
    });
    expect(sut.stateCount).toBe(1);
  });

  it('refuses states beyond its bound, counts them, and tells of each state it creates', () => {
    const created: string[] = [];
    const sut = new AlertRuleIndex(2, (c, state) => created.push(`${c.rule.id}/${state.deviceId}`));
    sut.replace([rule(tempAbove())], 0, ignore);
    const c = compiled(sut, 'temp-high');
    for (const id of ['a', 'b', 'a', 'c']) sut.stateFor(c, id, 'temperature', 0);
    expect(created).toEqual(['temp-high/a', 'temp-high/b']);
    expect([sut.stateCount, sut.refusedStates]).toEqual([2, 1]);
  });
});
