import { setup, T0, tempAbove } from './testing/alert-engine.harness';

// Real: the whole engine on a hand-driven clock; these tests pin the lifecycle's part (flapping,
// acknowledgement, one alert per key, copies out).

describe('alert lifecycle: flapping', () => {
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

describe('alert lifecycle: acknowledgement', () => {
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

describe('alert lifecycle: one alert per rule × device × metric', () => {
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
});

describe('alert lifecycle: the active list', () => {
  it('hands out copies: callers cannot change the engine records', () => {
    const { sut, read } = setup([tempAbove()]);
    read({ temperature: 31 });
    const [alert] = sut.active();
    alert.state = 'cleared';
    expect(sut.active()[0].state).toBe('raised');
  });
});
