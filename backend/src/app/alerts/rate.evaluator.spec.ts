import { AlertRuleInput } from '@pulse/protocol';
import { setup } from './testing/alert-engine.harness';

// Real: the whole engine on a hand-driven clock; these tests pin the rate evaluator's part.

/** A rate rule `id` on `metric`; `extra` holds what the test is about. */
const rateRule = (id: string, metric: string, extra: Partial<AlertRuleInput>): AlertRuleInput =>
  ({ id, kind: 'rate', metric, ...extra }) as AlertRuleInput;

describe('rate-of-change rules', () => {
  it('raises on a spike within the window and clears when it settles', () => {
    const spike = { windowMs: 5000, maxDelta: 5, per: 'window', direction: 'up' } as const;
    const { series, events } = setup([
      rateRule('spike', 'vibration', { ...spike, severity: 'minor' }),
    ]);
    series('vibration', [1, 1.2, 0.9, 1.1]);
    expect(events).toEqual([]);
    series('vibration', [12]);
    expect(events.map((e) => [e.kind, e.state, e.value, e.threshold])).toEqual([
      ['rate', 'raised', 11, 5],
    ]);
    expect(events[0].message).toBe('spike: vibration changed by 11 in 5 s (limit 5 in 5 s)');
    series('vibration', [1]);
    expect(events.map((e) => e.state)).toEqual(['raised', 'cleared']);
  });

  it('measures per second, in the chosen direction, and ignores a slow drift', () => {
    const { series, events } = setup([
      rateRule('fall', 'level', {
        windowMs: 10_000,
        maxDelta: 2,
        direction: 'down',
        severity: 'warning',
      }),
    ]);
    series('level', [100, 101, 102, 103]); // rising: not this rule's direction
    series('level', [103.5, 104, 104.5, 105, 105.5, 106, 106.5, 107, 107.5, 108]);
    expect(events).toEqual([]);
    series('level', [96]); // -12 over 10 s: -1.2/s, within the limit
    expect(events).toEqual([]);
    series('level', [80]); // -24 since the oldest reading in the window (104, 10 s ago)
    expect(events.map((e) => [e.state, e.value])).toEqual([['raised', -2.4]]);
  });

  it('needs every change past the limit for forMs before it raises, the clear level only once raised', () => {
    const { series, states } = setup([
      rateRule('climb', 'x', {
        windowMs: 1000,
        maxDelta: 5,
        clear: 2,
        forMs: 2000,
        direction: 'up',
        severity: 'minor',
      }),
    ]);
    series('x', [0, 10, 14, 17.5]); // +10, then +4 and +3.5: between the clear and the limit
    expect(states()).toEqual([]);
    series('x', [25, 31, 37]); // +7.5, +6, +6: past the limit for 2 s
    expect(states()).toEqual(['raised']);
    series('x', [41]); // +4: raised, the dead band keeps it so
    expect(states()).toEqual(['raised']);
  });

  it('keeps the state while there is nothing to compare with yet', () => {
    const { read, events, sut } = setup([
      rateRule('r', 'x', { windowMs: 1000, maxDelta: 1, severity: 'info' }),
    ]);
    read({ x: 100 });
    read({ x: 500 }); // same timestamp: no rate
    expect(events).toEqual([]);
    expect(sut.stats().states).toBe(1);
  });
});
