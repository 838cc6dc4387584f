import { AlertRuleInput } from '@pulse/protocol';
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
