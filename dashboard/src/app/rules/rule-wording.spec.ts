import type { AlertRule } from '@pulse/protocol/core';
import { conditionText, scopeText } from './rule-wording';

/** A stored rule of the gateway's (defaults filled in), with `fields` over the kind's minimum. */
function rule(fields: Record<string, unknown>): AlertRule {
  const common = { id: 'r1', severity: 'major', scope: { all: true }, enabled: true };
  const base: Record<string, Record<string, unknown>> = {
    threshold: { metric: 't', op: 'above', forMs: 0, clearForMs: 0 },
    rate: { metric: 't', per: 'second', direction: 'either', forMs: 0, clearForMs: 0 },
    nodata: {},
    offline: { forMs: 0 },
  };
  return { ...common, ...base[fields['kind'] as string], ...fields } as AlertRule;
}

describe('a rule in words', () => {
  it.each([
    [{ kind: 'threshold', value: 1000, forMs: 5000 }, 't above 1000 for 5 s'],
    [{ kind: 'threshold', op: 'below', value: 5 }, 't below 5'],
    [
      { kind: 'threshold', value: 68, clear: 66, forMs: 10_000, clearForMs: 3000 },
      't above 68 for 10 s, clears below 66 for 3 s',
    ],
    [{ kind: 'threshold', op: 'outside', low: 10, high: 30 }, 't outside 10…30'],
    [
      { kind: 'threshold', op: 'outside', low: 10, high: 30, clearLow: 12, forMs: 90_000 },
      't outside 10…30 for 1 min 30 s, clears inside 12…30',
    ],
  ])('threshold %j: "%s"', (fields, words) => {
    expect(conditionText(rule(fields))).toBe(words);
  });

  it.each([
    [{ kind: 'rate', maxDelta: 5, windowMs: 60_000 }, 't changes more than 5/s over 1 min'],
    [
      { kind: 'rate', maxDelta: 5, windowMs: 5000, per: 'window', direction: 'up', forMs: 2000 },
      't rises more than 5 over 5 s for 2 s',
    ],
    [
      { kind: 'rate', maxDelta: 2, clear: 1, windowMs: 60_000, direction: 'down' },
      't falls more than 2/s over 1 min, clears within 1/s',
    ],
  ])('rate %j: "%s"', (fields, words) => {
    expect(conditionText(rule(fields))).toBe(words);
  });

  it.each([
    [{ kind: 'nodata', silenceMs: 7_200_000 }, 'no data for 2 h'],
    [{ kind: 'nodata', metric: 'co2', silenceMs: 90_000 }, 'no co2 data for 1 min 30 s'],
    [
      { kind: 'nodata', cadenceMultiple: 3 },
      'no data for 3× its interval (2 h while its interval is unknown)',
    ],
    [
      { kind: 'nodata', silenceMs: 10_000, cadenceMultiple: 3, unknownPaceMs: 1_800_000 },
      'no data for 10 s or 3× its interval, whichever is longer (30 min while its interval is unknown)',
    ],
    // The schema's default pace is silenceMs when that is longer than 2 h.
    [
      { kind: 'nodata', silenceMs: 3 * 3_600_000, cadenceMultiple: 2 },
      'no data for 3 h or 2× its interval, whichever is longer (3 h while its interval is unknown)',
    ],
  ])('no data %j: "%s"', (fields, words) => {
    expect(conditionText(rule(fields))).toBe(words);
  });

  it.each([
    [{ kind: 'offline', forMs: 60_000 }, 'offline for 1 min'],
    [{ kind: 'offline' }, 'offline'],
  ])('offline %j: "%s"', (fields, words) => {
    expect(conditionText(rule(fields))).toBe(words);
  });

  it('names the scope', () => {
    expect(scopeText({ all: true })).toBe('all devices');
    expect(scopeText(undefined)).toBe('all devices');
    expect(scopeText({ group: 'hall-a' })).toBe('group hall-a');
    expect(scopeText({ device: 'boiler-1' })).toBe('device boiler-1');
  });
});
