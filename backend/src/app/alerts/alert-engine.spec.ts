import { AlertRuleInput } from '@pulse/protocol';
import { rule, setup, T0, tempAbove } from './testing/alert-engine.harness';

// Real: the whole engine on a hand-driven clock; these tests pin the coordinator's part (reading
// time versus server time, idle states) and the invariants of the whole.

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

describe('AlertEngine: idle states', () => {
  it('drops idle threshold states without an alert', () => {
    const { sut, clock, read } = setup([tempAbove()], { idleStateMs: 60_000 });
    read({ temperature: 20 });
    sut.tick(clock.advance(61_000));
    expect(sut.stats().states).toBe(0);
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

describe('AlertEngine: device ownership moves (decision 0029)', () => {
  it('releases a device without an event, and the next owner carries its alert on as the same episode', () => {
    const first = setup([tempAbove()]);
    first.read({ temperature: 35 });
    first.read({ temperature: 35 }, 'dev-2');
    const [raised] = first.events;
    first.sut.release((deviceId) => deviceId === 'dev-1');
    // Nothing said: the alert is not cleared, only no longer this engine's.
    expect(first.events).toHaveLength(2);
    expect(first.sut.active().map((a) => a.deviceId)).toEqual(['dev-2']);
    first.clock.advance(1000);
    first.read({ temperature: 10 });
    expect(first.events).toHaveLength(2);

    const next = setup([tempAbove()]);
    next.sut.adopt([raised], 'rule changed');
    next.clock.advance(2000);
    next.read({ temperature: 36 }); // still hot: the same episode, no second raise
    expect(next.events).toEqual([]);
    next.clock.advance(1000);
    next.read({ temperature: 10 });
    expect(next.events.map((e) => [e.id, e.state])).toEqual([[raised.id, 'cleared']]);
  });

  it('does not carry an alert on under a rule of the same id but another kind (the id reused while it was away)', () => {
    const first = setup([tempAbove()]);
    first.read({ temperature: 35 });
    const [raised] = first.events;
    expect(raised.kind).toBe('threshold');

    // Same id, now a rate rule on the same metric.
    const next = setup([
      {
        id: 'temp-high',
        kind: 'rate',
        metric: 'temperature',
        windowMs: 60_000,
        maxDelta: 5,
        severity: 'major',
      },
    ]);
    next.sut.adopt([raised], 'rule changed');
    // Cleared with the reason, not taken for the rate rule's episode.
    expect(next.events.map((e) => [e.id, e.state, e.kind])).toEqual([
      [raised.id, 'cleared', 'threshold'],
    ]);
  });
});
