import { AlertRuleSchema } from '@pulse/protocol';
import type { AlertRule, AlertRuleKind } from '@pulse/protocol/core';
import { freshId, ruleJson, ruleTemplate } from './rule-json';

const KINDS: AlertRuleKind[] = ['threshold', 'rate', 'nodata', 'offline'];

describe('the rule editor’s starting text', () => {
  // The spec reads the gateway's schema; the page never does (one schema, on the gateway).
  it.each(KINDS)('offers a %s template the gateway accepts as it stands', (kind) => {
    const text = ruleJson(ruleTemplate(kind, freshId(kind, [])));
    const parsed = AlertRuleSchema.safeParse(JSON.parse(text));
    expect(parsed.error?.issues ?? []).toEqual([]);
    expect(parsed.data).toMatchObject({ id: `${kind}-1`, kind });
  });

  it('gives a new rule the first id of its kind not in use', () => {
    expect(freshId('threshold', ['threshold-1', 'threshold-2', 'rate-3'])).toBe('threshold-3');
    expect(freshId('rate', ['threshold-1'])).toBe('rate-1');
  });

  it('shows a stored rule with id, name and kind first, severity, scope and enabled last', () => {
    const stored = {
      id: 'temperature-high',
      name: 'Overheating',
      severity: 'major',
      scope: { all: true },
      enabled: true,
      kind: 'threshold',
      metric: 'temperature',
      op: 'above',
      value: 68,
      clear: 66,
      forMs: 10_000,
      clearForMs: 0,
    } as AlertRule;
    const text = ruleJson(stored);
    expect(Object.keys(JSON.parse(text))).toEqual([
      'id',
      'name',
      'kind',
      'metric',
      'op',
      'value',
      'clear',
      'forMs',
      'clearForMs',
      'severity',
      'scope',
      'enabled',
    ]);
    expect(JSON.parse(text)).toEqual(stored);
    expect(text).toContain('\n  "metric": "temperature",\n');
  });
});
