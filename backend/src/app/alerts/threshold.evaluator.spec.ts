import { setup, T0, tempAbove } from './testing/alert-engine.harness';

// Real: the whole engine on a hand-driven clock; these tests pin the threshold evaluator's part.

describe('threshold rules', () => {
  it('raises once when a value goes above the level, with the whole record', () => {
    const { sut, read, events } = setup([tempAbove()]);
    read({ temperature: 30 });
    expect(events).toEqual([]);
    read({ temperature: 31.5 });
    read({ temperature: 32 });
    expect(events).toHaveLength(1);
    // The whole record: what it is about, what it says, and where it stands in its life.
    const about = {
      ruleId: 'temp-high',
      kind: 'threshold',
      ruleName: 'temp-high',
      deviceId: 'dev-1',
    };
    const says = { message: 'temp-high: temperature 31.5 above 30', value: 31.5, threshold: 30 };
    const open = { state: 'raised', active: true, flapping: false, count: 1, clearedAt: null };
    const unacknowledged = { acknowledgedAt: null, acknowledgedBy: null, ackNote: null };
    expect(events[0]).toEqual({
      id: expect.any(String),
      ...about,
      metric: 'temperature',
      severity: 'major',
      ...says,
      ...open,
      raisedAt: T0,
      updatedAt: T0,
      ...unacknowledged,
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
    series('temperature', [29]); // dead band, not raised yet: below the raise level, the run is broken
    series('temperature', [27]);
    series('temperature', Array(10).fill(35)); // T0+8s .. T0+17s
    expect(states()).toEqual([]);
    series('temperature', [35]); // T0+18s: 10 s since T0+8s
    expect(states()).toEqual(['raised']);
    expect(events[0].raisedAt).toBe(T0 + 18_000);
  });

  it('does not raise for forMs on one reading past the level and then the dead band', () => {
    // Above 70 for 3 s, clear at 60: one reading of 75, then 65, 62, 61, 61.5 a second apart.
    const rule = tempAbove({ value: 70, clear: 60, forMs: 3000 });
    const { sut, clock, series, states } = setup([rule]);
    series('temperature', [75, 65, 62, 61, 61.5]);
    sut.tick(clock.advance(1000));
    expect(states()).toEqual([]);
    // Past the level for 3 s: raised; then the dead band keeps it raised.
    series('temperature', [71, 72, 73, 74, 65, 62]);
    expect(states()).toEqual(['raised']);
  });

  it('clears after clearForMs of readings past the clear level, the dead band restarting it', () => {
    const { series, states } = setup([tempAbove({ clearForMs: 3000 })]);
    series('temperature', [31, 27, 27, 29, 27, 27, 27]); // 29: the dead band, not "cleared"
    expect(states()).toEqual(['raised']);
    series('temperature', [27]);
    expect(states()).toEqual(['raised', 'cleared']);
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
