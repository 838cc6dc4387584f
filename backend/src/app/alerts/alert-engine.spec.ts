import { AlertEvent, AlertRule, AlertRuleInput, AlertRuleSchema } from '@pulse/protocol';
import { AlertEngine, AlertEngineOptions } from './alert-engine';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

/** A hand-driven server clock: nothing in these tests depends on real time. */
class FakeClock {
  t = T0;
  now(): number {
    return this.t;
  }
  advance(ms: number): number {
    return (this.t += ms);
  }
}

const rule = (input: AlertRuleInput): AlertRule => AlertRuleSchema.parse(input);

const tempAbove = (extra: Partial<AlertRuleInput> = {}): AlertRuleInput =>
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

function setup(rules: AlertRuleInput[], options: AlertEngineOptions = {}) {
  const clock = new FakeClock();
  const events: AlertEvent[] = [];
  const groups = new Map<string, string>();
  const sut = new AlertEngine(clock, {
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

describe('AlertEngine: threshold', () => {
  it('raises once when a value goes above the level, with the whole record', () => {
    const { sut, read, events } = setup([tempAbove()]);
    read({ temperature: 30 });
    expect(events).toEqual([]);
    read({ temperature: 31.5 });
    read({ temperature: 32 });
    expect(events).toHaveLength(1);
    expect(events[0]).toEqual({
      id: expect.any(String),
      ruleId: 'temp-high',
      ruleName: 'temp-high',
      deviceId: 'dev-1',
      metric: 'temperature',
      severity: 'major',
      state: 'raised',
      message: 'temp-high: temperature 31.5 above 30',
      value: 31.5,
      threshold: 30,
      raisedAt: T0,
      updatedAt: T0,
      acknowledgedAt: null,
      acknowledgedBy: null,
      ackNote: null,
      clearedAt: null,
      flapping: false,
      count: 1,
      active: true,
    });
    expect(sut.active()).toEqual([events[0]]);
  });

  it('clears only below the clear level (hysteresis), not in the dead band', () => {
    const { series, states, events } = setup([tempAbove()]);
    series('temperature', [31, 29.5, 28.5, 30, 29]);
    expect(states()).toEqual(['raised']);
    series('temperature', [27.9]);
    expect(states()).toEqual(['raised', 'cleared']);
    expect(events[1]).toMatchObject({
      clearedAt: T0 + 6000,
      value: 27.9,
      active: true,
    });
    // Back in the dead band: no raise until above 30 again.
    series('temperature', [29.9, 30]);
    expect(events).toHaveLength(2);
  });

  it('waits for the condition to hold continuously for forMs (by reading time)', () => {
    const { series, states, events } = setup([tempAbove({ forMs: 10_000 })]);
    series('temperature', [31, 31, 31, 31, 31]); // 4 s above
    series('temperature', [29]); // dead band: still "above" for the hysteresis
    series('temperature', [27]); // below clear: the run is broken
    series('temperature', Array(10).fill(35)); // T0+8s .. T0+17s
    expect(states()).toEqual([]);
    series('temperature', [35]); // T0+18s: 10 s since T0+8s
    expect(states()).toEqual(['raised']);
    expect(events[0].raisedAt).toBe(T0 + 18_000);
  });

  it('clears only after clearForMs below the clear level', () => {
    const { series, states } = setup([tempAbove({ clearForMs: 3000 })]);
    series('temperature', [31, 27, 27, 31, 27, 27, 27]);
    expect(states()).toEqual(['raised']);
    series('temperature', [27]);
    expect(states()).toEqual(['raised', 'cleared']);
  });

  it('completes a duration on tick between readings, but a silent device does not', () => {
    const { sut, clock, read, states } = setup([tempAbove({ forMs: 3000 })]);
    read({ temperature: 31 });
    sut.tick(clock.advance(2000));
    expect(states()).toEqual([]);
    sut.tick(clock.advance(1000));
    expect(states()).toEqual(['raised']);

    const other = setup([tempAbove({ forMs: 10_000 })]);
    other.read({ temperature: 31 });
    other.sut.tick(other.clock.advance(60_000)); // the one reading stands for a few seconds, not a minute
    expect(other.states()).toEqual([]);
  });

  it('handles below and outside, with their clear levels', () => {
    const { series, states, events } = setup([
      {
        id: 'cold',
        kind: 'threshold',
        metric: 't',
        op: 'below',
        value: 5,
        clear: 7,
        severity: 'minor',
      },
      {
        id: 'band',
        kind: 'threshold',
        metric: 'p',
        op: 'outside',
        low: 10,
        high: 20,
        clearLow: 12,
        clearHigh: 18,
        severity: 'warning',
      },
    ]);
    series('t', [6, 4.9, 6.5, 7.1]);
    expect(events.map((e) => [e.ruleId, e.state, e.value])).toEqual([
      ['cold', 'raised', 4.9],
      ['cold', 'cleared', 7.1],
    ]);
    series('p', [15, 21, 19, 17, 9, 11, 13]);
    expect(events.slice(2).map((e) => [e.state, e.value, e.threshold])).toEqual([
      ['raised', 21, 20],
      ['cleared', 17, 20],
      ['raised', 9, 10],
      ['cleared', 13, 10],
    ]);
    expect(states()).toHaveLength(6);
  });
});

describe('AlertEngine: rate of change', () => {
  it('raises on a spike within the window and clears when it settles', () => {
    const { series, events } = setup([
      {
        id: 'spike',
        kind: 'rate',
        metric: 'vibration',
        windowMs: 5000,
        maxDelta: 5,
        per: 'window',
        direction: 'up',
        severity: 'minor',
      },
    ]);
    series('vibration', [1, 1.2, 0.9, 1.1]);
    expect(events).toEqual([]);
    series('vibration', [12]);
    expect(events.map((e) => [e.state, e.value, e.threshold])).toEqual([['raised', 11, 5]]);
    expect(events[0].message).toBe('spike: vibration changed by 11 in 5 s (limit 5 in 5 s)');
    series('vibration', [1]);
    expect(events.map((e) => e.state)).toEqual(['raised', 'cleared']);
  });

  it('measures per second, in the chosen direction, and ignores a slow drift', () => {
    const { series, events } = setup([
      {
        id: 'fall',
        kind: 'rate',
        metric: 'level',
        windowMs: 10_000,
        maxDelta: 2,
        direction: 'down',
        severity: 'warning',
      },
    ]);
    series('level', [100, 101, 102, 103]); // rising: not this rule's direction
    series('level', [103.5, 104, 104.5, 105, 105.5, 106, 106.5, 107, 107.5, 108]);
    expect(events).toEqual([]);
    series('level', [96]); // -12 over 10 s: -1.2/s, within the limit
    expect(events).toEqual([]);
    series('level', [80]); // -24 since the oldest reading in the window (104, 10 s ago)
    expect(events.map((e) => [e.state, e.value])).toEqual([['raised', -2.4]]);
  });

  it('keeps the state while there is nothing to compare with yet', () => {
    const { read, events, sut } = setup([
      {
        id: 'r',
        kind: 'rate',
        metric: 'x',
        windowMs: 1000,
        maxDelta: 1,
        severity: 'info',
      },
    ]);
    read({ x: 100 });
    read({ x: 500 }); // same timestamp: no rate
    expect(events).toEqual([]);
    expect(sut.stats().states).toBe(1);
  });
});

describe('AlertEngine: no data', () => {
  it('raises after silenceMs of server time and clears on the next reading', () => {
    const { sut, clock, read, events } = setup([
      { id: 'quiet', kind: 'nodata', silenceMs: 5000, severity: 'minor' },
    ]);
    read({ a: 1 });
    sut.tick(clock.advance(4999));
    expect(events).toEqual([]);
    sut.tick(clock.advance(1));
    expect(events).toMatchObject([
      {
        state: 'raised',
        metric: null,
        value: 5000,
        threshold: 5000,
        message: 'quiet: no data for 5 s',
      },
    ]);
    sut.tick(clock.advance(10_000));
    expect(events).toHaveLength(1);
    clock.advance(500);
    read({ b: 2 });
    expect(events.map((e) => e.state)).toEqual(['raised', 'cleared']);
    expect(events[1]).toMatchObject({ clearedAt: clock.now(), value: 15_500 });
  });

  it('learns the cadence of each device and metric (K times the interval)', () => {
    const { sut, clock, series, events } = setup([
      {
        id: 'stale',
        kind: 'nodata',
        metric: 'co2',
        cadenceMultiple: 3,
        severity: 'minor',
      },
    ]);
    series('co2', [500, 501, 502, 503, 504], 1000, 'fast');
    series('co2', [500, 501, 502, 503, 504], 10_000, 'slow');
    const fastLast = T0 + 5000;
    clock.t = fastLast + 2900;
    sut.tick();
    expect(events).toEqual([]);
    clock.t = fastLast + 3000;
    sut.tick();
    expect(events.map((e) => [e.deviceId, e.metric, e.threshold])).toEqual([['fast', 'co2', 3000]]);
    clock.t = T0 + 55_000 + 29_000;
    sut.tick();
    expect(events).toHaveLength(1);
    clock.t = T0 + 55_000 + 30_000;
    sut.tick();
    expect(events.map((e) => e.deviceId)).toEqual(['fast', 'slow']);
  });

  it('leaves an offline device to the offline rule, and counts silence again from its return', () => {
    const { sut, clock, read, events } = setup([
      { id: 'quiet', kind: 'nodata', silenceMs: 5000, severity: 'minor' },
    ]);
    read({ a: 1 });
    sut.onStatus('dev-1', 'offline');
    sut.tick(clock.advance(60_000));
    expect(events).toEqual([]);
    sut.onStatus('dev-1', 'online');
    sut.tick(clock.advance(4000));
    expect(events).toEqual([]);
    sut.tick(clock.advance(1000));
    expect(events.map((e) => e.state)).toEqual(['raised']);
  });

  it('does not watch devices it has never heard from', () => {
    const { sut, clock, events } = setup([
      { id: 'quiet', kind: 'nodata', silenceMs: 1000, severity: 'minor' },
    ]);
    sut.tick(clock.advance(60_000));
    expect(events).toEqual([]);
  });
});

describe('AlertEngine: device offline', () => {
  it('raises after the device stays offline for forMs and clears when it is back', () => {
    const { sut, clock, events } = setup([
      { id: 'off', kind: 'offline', forMs: 5000, severity: 'critical' },
    ]);
    sut.onStatus('dev-1', 'offline');
    sut.tick(clock.advance(3000));
    sut.onStatus('dev-1', 'online'); // a blip: nothing
    sut.tick(clock.advance(10_000));
    expect(events).toEqual([]);
    const wentOffline = clock.now();
    sut.onStatus('dev-1', 'offline', wentOffline);
    sut.tick(clock.advance(5000));
    expect(events).toMatchObject([
      {
        state: 'raised',
        severity: 'critical',
        deviceId: 'dev-1',
        metric: null,
        raisedAt: wentOffline + 5000,
        message: 'off: device offline for 5 s',
      },
    ]);
    clock.advance(2000);
    sut.onStatus('dev-1', 'online');
    expect(events.map((e) => e.state)).toEqual(['raised', 'cleared']);
  });

  it('raises at once without forMs', () => {
    const { sut, events } = setup([{ id: 'off', kind: 'offline', severity: 'critical' }]);
    sut.onStatus('dev-1', 'offline');
    expect(events.map((e) => e.state)).toEqual(['raised']);
    sut.onStatus('dev-1', 'offline'); // retained status again: no duplicate
    expect(events).toHaveLength(1);
  });
});

describe('AlertEngine: reading timestamps, not arrival time', () => {
  it('ignores out-of-order readings: they neither raise nor clear', () => {
    const { sut, clock, read, events } = setup([tempAbove()]);
    clock.advance(10_000);
    read({ temperature: 20 });
    read({ temperature: 40 }, 'dev-1', clock.now() - 5000); // late arrival of an old spike
    expect(events).toEqual([]);
    read({ temperature: 31 });
    expect(events.map((e) => e.state)).toEqual(['raised']);
    read({ temperature: 10 }, 'dev-1', clock.now() - 1);
    expect(events).toHaveLength(1);
    expect(sut.stats().outOfOrder).toBe(2);
  });

  it('does not raise from late readings (buffered data replayed long after)', () => {
    const { sut, clock, read, events } = setup([tempAbove()], {
      lateToleranceMs: 60_000,
    });
    clock.advance(3_600_000);
    for (let i = 0; i < 5; i++) read({ temperature: 50 }, 'dev-1', T0 + i * 1000);
    expect(events).toEqual([]);
    expect(sut.stats().late).toBe(5);
  });

  it('never lets a far-future timestamp clear an alert or stall later readings', () => {
    const { sut, clock, read, events } = setup([tempAbove()], {
      futureToleranceMs: 60_000,
    });
    read({ temperature: 35 });
    read({ temperature: 10 }, 'dev-1', clock.now() + 3_600_000);
    expect(events.map((e) => e.state)).toEqual(['raised']);
    expect(sut.stats().future).toBe(1);
    clock.advance(1000);
    read({ temperature: 10 });
    expect(events.map((e) => e.state)).toEqual(['raised', 'cleared']);
  });

  it('clamps a slightly-ahead timestamp to the server clock, so it cannot complete a duration', () => {
    const { clock, read, events } = setup([tempAbove({ forMs: 10_000 })]);
    read({ temperature: 35 });
    clock.advance(1000);
    read({ temperature: 35 }, 'dev-1', clock.now() + 240_000); // within the decoder's skew limit
    expect(events).toEqual([]);
    clock.advance(1000);
    read({ temperature: 35 }); // a correct clock after it is still in order
    clock.advance(8000);
    read({ temperature: 35 });
    expect(events.map((e) => [e.state, e.raisedAt])).toEqual([['raised', T0 + 10_000]]);
  });
});

describe('AlertEngine: flapping', () => {
  it('marks an alert flapping instead of raising again and again, then settles', () => {
    const { sut, clock, series, events } = setup([tempAbove()], {
      flapMaxRaises: 3,
      flapWindowMs: 60_000,
      flapQuietMs: 20_000,
    });
    series('temperature', [31, 27, 31, 27, 31, 27]); // three cycles: normal
    expect(events.map((e) => e.state)).toEqual([
      'raised',
      'cleared',
      'raised',
      'cleared',
      'raised',
      'cleared',
    ]);
    const id = events[0].id;
    expect(new Set(events.map((e) => e.id))).toEqual(new Set([id])); // one alert, re-raised
    series('temperature', [31]);
    expect(events.at(-1)).toMatchObject({
      id,
      state: 'flapping',
      flapping: true,
      count: 4,
    });
    series('temperature', [27, 31, 27, 31, 27, 31, 27]);
    expect(events).toHaveLength(7); // no storm
    series('temperature', Array(19).fill(20));
    expect(events).toHaveLength(7);
    series('temperature', [20]); // 20 s quiet
    expect(events.at(-1)).toMatchObject({
      id,
      state: 'cleared',
      flapping: false,
      active: true,
    });
    expect(sut.active()).toHaveLength(1);
    void clock;
  });

  it('goes back to raised when a flapping condition stays on', () => {
    const { sut, clock, series, events } = setup([tempAbove()], {
      flapMaxRaises: 1,
      flapQuietMs: 5000,
    });
    series('temperature', [31, 27, 31]);
    expect(events.map((e) => e.state)).toEqual(['raised', 'cleared', 'flapping']);
    series('temperature', [32, 33, 34, 35]);
    expect(events).toHaveLength(3);
    sut.tick(clock.advance(1000));
    expect(events.at(-1)).toMatchObject({ state: 'raised', flapping: false });
  });
});

describe('AlertEngine: acknowledgement lifecycle', () => {
  it('raised → acknowledged (who, when, note) → cleared leaves the active list', () => {
    const { sut, clock, series, events } = setup([tempAbove()]);
    series('temperature', [31]);
    const id = events[0].id;
    clock.advance(500);
    const result = sut.acknowledge(id, 'alice', clock.now(), 'on it');
    expect(result).toEqual({
      ok: true,
      alert: expect.objectContaining({
        id,
        state: 'acknowledged',
        acknowledgedBy: 'alice',
        acknowledgedAt: T0 + 1500,
        ackNote: 'on it',
        active: true,
      }),
    });
    expect(events.at(-1)).toEqual(result.ok && result.alert);
    series('temperature', [20]);
    expect(events.at(-1)).toMatchObject({
      id,
      state: 'cleared',
      acknowledgedBy: 'alice',
      active: false,
    });
    expect(sut.active()).toEqual([]);
    // The next occurrence is a new alert.
    series('temperature', [31]);
    expect(events.at(-1)).toMatchObject({ state: 'raised', count: 1 });
    expect(events.at(-1)?.id).not.toBe(id);
  });

  it('keeps a cleared alert that nobody acknowledged visible until acknowledged', () => {
    const { sut, series, events } = setup([tempAbove()]);
    series('temperature', [31, 20]);
    const id = events[0].id;
    expect(sut.active()).toEqual([expect.objectContaining({ id, state: 'cleared', active: true })]);
    const result = sut.acknowledge(id, 'bob');
    expect(result.ok && result.alert).toMatchObject({
      state: 'cleared',
      acknowledgedBy: 'bob',
      active: false,
    });
    expect(sut.active()).toEqual([]);
    expect(sut.acknowledge(id, 'carol')).toMatchObject({ ok: false, error: 'not_found' });
  });

  it('re-raises the same alert when the condition returns before the clear was acknowledged', () => {
    const { sut, series, events } = setup([tempAbove()]);
    series('temperature', [31, 20, 31, 32, 33]);
    expect(events.map((e) => [e.state, e.count])).toEqual([
      ['raised', 1],
      ['cleared', 1],
      ['raised', 2],
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(1);
    expect(sut.active()).toHaveLength(1);
  });

  it('refuses unknown ids and a second acknowledgement', () => {
    const { sut, series, events } = setup([tempAbove()]);
    series('temperature', [31]);
    expect(sut.acknowledge('nope', 'a')).toMatchObject({
      ok: false,
      error: 'not_found',
    });
    expect(sut.acknowledge(events[0].id, 'a').ok).toBe(true);
    expect(sut.acknowledge(events[0].id, 'b')).toMatchObject({
      ok: false,
      error: 'already_acknowledged',
    });
  });

  it('never stamps an acknowledgement in the future', () => {
    const { sut, clock, series, events } = setup([tempAbove()]);
    series('temperature', [31]);
    const result = sut.acknowledge(events[0].id, 'a', clock.now() + 999_999);
    expect(result.ok && result.alert.acknowledgedAt).toBe(clock.now());
  });
});

describe('AlertEngine: one alert per rule × device × metric', () => {
  it('keeps devices, rules and metrics apart', () => {
    const { sut, read, events } = setup([
      tempAbove(),
      tempAbove({
        id: 'temp-critical',
        value: 40,
        clear: 38,
        severity: 'critical',
      }),
      {
        id: 'hum',
        kind: 'threshold',
        metric: 'humidity',
        op: 'above',
        value: 80,
        severity: 'info',
      },
    ]);
    for (let i = 0; i < 3; i++) {
      read({ temperature: 45, humidity: 90 }, 'dev-1');
      read({ temperature: 35 }, 'dev-2');
    }
    expect(events.map((e) => `${e.ruleId}/${e.deviceId}/${e.metric}`).sort()).toEqual([
      'hum/dev-1/humidity',
      'temp-critical/dev-1/temperature',
      'temp-high/dev-1/temperature',
      'temp-high/dev-2/temperature',
    ]);
    // Most severe first.
    expect(sut.active().map((e) => e.severity)).toEqual(['critical', 'major', 'major', 'info']);
  });

  it('only touches rules of the metrics in a reading', () => {
    const { sut, read } = setup([tempAbove()]);
    read({ humidity: 50, pressure: 1000 });
    expect(sut.stats().states).toBe(0);
    read({ temperature: 20 });
    expect(sut.stats().states).toBe(1);
  });
});

describe('AlertEngine: scope', () => {
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

describe('AlertEngine: rule changes', () => {
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

describe('AlertEngine: bounds', () => {
  it('refuses new states at the limit and counts them', () => {
    const { sut, read, events } = setup([tempAbove()], { maxStates: 2 });
    for (const id of ['a', 'b', 'c', 'd']) read({ temperature: 50 }, id);
    expect(events.map((e) => e.deviceId)).toEqual(['a', 'b']);
    expect(sut.stats()).toMatchObject({ states: 2, refusedStates: 2 });
  });

  it('keeps the newest events in a bounded history and filters it', () => {
    const { sut, clock, series, events } = setup(
      [
        tempAbove(),
        {
          id: 'cold',
          kind: 'threshold',
          metric: 'temperature',
          op: 'below',
          value: 0,
          severity: 'info',
        },
      ],
      { maxHistory: 5 },
    );
    series('temperature', [31, 20, 31, 20, -5, 20, 31], 1000, 'dev-1');
    series('temperature', [31], 1000, 'dev-2');
    expect(events).toHaveLength(8);
    const history = sut.history();
    expect(history).toHaveLength(5);
    expect(history).toEqual(events.slice(3).reverse());
    expect(sut.history({ deviceId: 'dev-2' }).map((e) => e.deviceId)).toEqual(['dev-2']);
    expect(sut.history({ severity: 'info' }).map((e) => e.ruleId)).toEqual(['cold', 'cold']);
    expect(sut.history({ state: 'cleared', deviceId: 'dev-1' }).map((e) => e.updatedAt)).toEqual([
      T0 + 6000,
      T0 + 4000,
    ]);
    expect(sut.history({ from: T0 + 6000, to: T0 + 7000 }).map((e) => e.updatedAt)).toEqual([
      T0 + 7000,
      T0 + 6000,
    ]);
    expect(sut.history({ limit: 2 })).toHaveLength(2);
    expect(clock.now()).toBe(T0 + 8000);
  });

  it('drops idle threshold states without an alert', () => {
    const { sut, clock, read } = setup([tempAbove()], { idleStateMs: 60_000 });
    read({ temperature: 20 });
    sut.tick(clock.advance(61_000));
    expect(sut.stats().states).toBe(0);
  });

  it('survives a listener that throws', () => {
    const { sut, read, events } = setup([tempAbove()]);
    sut.onAlert(() => {
      throw new Error('boom');
    });
    read({ temperature: 31 });
    read({ temperature: 20 });
    expect(events).toHaveLength(2);
    expect(sut.stats().listenerErrors).toBe(2);
  });

  it('hands out copies: callers cannot change the engine records', () => {
    const { sut, read } = setup([tempAbove()]);
    read({ temperature: 31 });
    const [alert] = sut.active();
    alert.state = 'cleared';
    expect(sut.active()[0].state).toBe('raised');
  });
});

describe('AlertEngine: invariants under a random mix of inputs', () => {
  /** mulberry32: a seeded generator, so a failure replays exactly. */
  function random(seed: number): () => number {
    return () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  it.each([1, 2, 3, 42])(
    'never duplicates, never reopens a closed alert, stays bounded (seed %i)',
    (seed) => {
      const next = random(seed);
      const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)];
      const rules: AlertRuleInput[] = [
        tempAbove({ forMs: 2000 }),
        {
          id: 'band',
          kind: 'threshold',
          metric: 'temperature',
          op: 'outside',
          low: 0,
          high: 40,
          severity: 'critical',
          clearForMs: 1000,
        },
        {
          id: 'spike',
          kind: 'rate',
          metric: 'vibration',
          windowMs: 3000,
          maxDelta: 4,
          per: 'window',
          severity: 'minor',
        },
        {
          id: 'quiet',
          kind: 'nodata',
          cadenceMultiple: 3,
          silenceMs: 2000,
          severity: 'minor',
        },
        { id: 'off', kind: 'offline', forMs: 1000, severity: 'critical' },
      ];
      const { sut, clock, events } = setup(rules, {
        maxStates: 30,
        maxHistory: 200,
        flapMaxRaises: 3,
        flapQuietMs: 5000,
      });
      const devices = ['d1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd7'];
      const violations: string[] = [];
      for (let step = 0; step < 3000; step++) {
        const r = next();
        if (r < 0.6) {
          // Mostly in order; some late (out of order), a few stamped far ahead.
          const skew =
            next() < 0.1
              ? -Math.floor(next() * 10_000)
              : next() < 0.05
                ? Math.floor(next() * 600_000)
                : 0;
          sut.onReadings([
            {
              deviceId: pick(devices),
              ts: clock.now() + skew,
              values: {
                temperature: Math.round(next() * 60 - 10),
                vibration: next() * 10,
              },
            },
          ]);
        } else if (r < 0.65) {
          sut.onStatus(pick(devices), next() < 0.5 ? 'online' : 'offline');
        } else if (r < 0.7) {
          const open = sut.active();
          if (open.length > 0) sut.acknowledge(pick(open).id, 'op');
        } else if (r < 0.71) {
          sut.setRules(
            rules.map((input) =>
              rule(next() < 0.3 ? { ...input, severity: pick(['info', 'major'] as const) } : input),
            ),
          );
        } else {
          sut.tick(clock.advance(Math.floor(next() * 1500)));
        }
        clock.advance(Math.floor(next() * 300));

        const active = sut.active();
        const keys = new Set(active.map((e) => `${e.ruleId}/${e.deviceId}/${e.metric}`));
        if (new Set(active.map((e) => e.id)).size !== active.length)
          violations.push(`${step}: duplicate id`);
        if (keys.size !== active.length) violations.push(`${step}: two open alerts for one key`);
        for (const event of active) {
          if (!event.active || (event.clearedAt !== null && event.acknowledgedAt !== null))
            violations.push(`${step}: closed alert ${event.id} listed`);
        }
        const stats = sut.stats();
        if (stats.states > 30 || stats.historySize > 200) violations.push(`${step}: over a bound`);
      }
      const closed = new Set<string>();
      const lastCount = new Map<string, number>();
      for (const event of events) {
        if (closed.has(event.id)) violations.push(`${event.id} reopened`);
        if (!event.active) closed.add(event.id);
        if (event.count < (lastCount.get(event.id) ?? 1))
          violations.push(`${event.id} count went down`);
        lastCount.set(event.id, event.count);
        if (event.updatedAt > clock.now()) violations.push(`${event.id} stamped in the future`);
      }
      expect(violations).toEqual([]);
      expect(events.length).toBeGreaterThan(50);
      expect(closed.size).toBeGreaterThan(5);
    },
  );
});
