import type { AlertEvent } from '@pulse/protocol/core';
import { compareAlerts } from '../core/stores/alert.store';
import { acknowledged, alertEvent } from '../testing/alerts';
import {
  AlertFilter,
  AlertSort,
  countAlerts,
  filterAlerts,
  flatRows,
  ruleRows,
  sortAlerts,
} from './alert-view';

const T0 = Date.UTC(2026, 11, 2, 1, 0, 0);

/** A small storm: two rules over four devices, one alert acknowledged, one cleared. */
function storm(): AlertEvent[] {
  const hot = { ruleId: 'hot', ruleName: 'Overheating' };
  const volt = { ruleId: 'volt', ruleName: 'Voltage low' };
  return [
    alertEvent({ id: 'h1', ...hot, deviceId: 'sim-002', severity: 'critical', raisedAt: T0 + 1 }),
    alertEvent({ id: 'h2', ...hot, deviceId: 'sim-010', severity: 'major', raisedAt: T0 + 4 }),
    acknowledged(
      alertEvent({ id: 'h3', ...hot, deviceId: 'sim-001', severity: 'critical', raisedAt: T0 }),
      'ana',
      T0 + 9,
    ),
    alertEvent({ id: 'v1', ...volt, deviceId: 'sim-003', severity: 'warning', raisedAt: T0 + 3 }),
    alertEvent({
      id: 'v2',
      ...volt,
      deviceId: 'sim-001',
      severity: 'warning',
      raisedAt: T0 + 2,
      state: 'cleared',
      clearedAt: T0 + 8,
    }),
  ];
}

const NAMES: Record<string, string> = { 'sim-003': 'Boiler room 3', 'sim-010': 'Press 10' };
const ids = (list: readonly AlertEvent[]) => list.map((a) => a.id);
const none: AlertFilter = { severity: '', state: '', ack: '', device: '' };

describe('countAlerts', () => {
  it('counts every severity (zeros included) of the alerts on, the cleared ones apart, and acknowledged against not', () => {
    expect(countAlerts(storm())).toEqual({
      total: 5,
      severity: { critical: 2, major: 1, minor: 0, warning: 1, info: 0 },
      cleared: { critical: 0, major: 0, minor: 0, warning: 1, info: 0 },
      unacknowledged: 4,
      acknowledged: 1,
    });
    expect(countAlerts([])).toEqual({
      total: 0,
      severity: { critical: 0, major: 0, minor: 0, warning: 0, info: 0 },
      cleared: { critical: 0, major: 0, minor: 0, warning: 0, info: 0 },
      unacknowledged: 0,
      acknowledged: 0,
    });
  });
});

describe('filterAlerts', () => {
  it.each<[string, Partial<AlertFilter>, string[]]>([
    ['nothing set: the list itself', {}, ['h1', 'h2', 'h3', 'v1', 'v2']],
    ['severity', { severity: 'critical' }, ['h1', 'h3']],
    ['state', { state: 'cleared' }, ['v2']],
    [
      'not acknowledged (a cleared one still counts)',
      { ack: 'unacknowledged' },
      ['h1', 'h2', 'v1', 'v2'],
    ],
    ['acknowledged', { ack: 'acknowledged' }, ['h3']],
    ['part of a device id', { device: 'sim-00' }, ['h1', 'h3', 'v1', 'v2']],
    ['part of a display name, any case', { device: 'BOILER' }, ['v1']],
    ['spaces around the text ignored', { device: '  press ' }, ['h2']],
    ['every part at once', { severity: 'critical', ack: 'unacknowledged', device: '002' }, ['h1']],
    ['nothing matches', { severity: 'info' }, []],
  ])('%s', (_, filter, expected) => {
    const list = storm();
    const out = filterAlerts(list, { ...none, ...filter }, (id) => NAMES[id]);
    expect(ids(out)).toEqual(expected);
    if (!Object.keys(filter).length) expect(out).toBe(list);
  });
});

describe('sortAlerts', () => {
  it.each<[AlertSort, string[]]>([
    // The store's order: most severe, then newest raised.
    ['severity', ['h1', 'h3', 'h2', 'v1', 'v2']],
    ['newest', ['h2', 'v1', 'v2', 'h1', 'h3']],
    // By device id, then the store's order within a device.
    ['device', ['h3', 'v2', 'h1', 'v1', 'h2']],
  ])('%s', (sort, expected) => {
    // Input in the store's order, as the page passes it.
    expect(ids(sortAlerts([...storm()].sort(compareAlerts), sort))).toEqual(expected);
  });

  it('does not change the list it is given', () => {
    const list = storm();
    sortAlerts(list, 'newest');
    expect(ids(list)).toEqual(['h1', 'h2', 'h3', 'v1', 'v2']);
  });
});

describe('rows of the virtual list', () => {
  it('flat: one row per alert, keyed by id', () => {
    expect(flatRows(storm()).map((r) => [r.kind, r.key])).toEqual([
      ['alert', 'h1'],
      ['alert', 'h2'],
      ['alert', 'h3'],
      ['alert', 'v1'],
      ['alert', 'v2'],
    ]);
  });

  it.each<[string, string[], string[]]>([
    ['all collapsed: headings only', [], ['rule:hot', 'rule:volt']],
    [
      'one expanded: its alerts under it, in order',
      ['volt'],
      ['rule:hot', 'rule:volt', 'v1', 'v2'],
    ],
    ['both expanded', ['hot', 'volt'], ['rule:hot', 'h1', 'h2', 'h3', 'rule:volt', 'v1', 'v2']],
    ['an unknown rule id changes nothing', ['gone'], ['rule:hot', 'rule:volt']],
  ])('by rule, %s', (_, expanded, keys) => {
    expect(ruleRows(storm(), new Set(expanded)).map((r) => r.key)).toEqual(keys);
  });

  it('by rule: each heading has its count, unacknowledged count and highest severity', () => {
    const headings = ruleRows(storm(), new Set(['hot'])).filter((r) => r.kind === 'rule');
    expect(headings).toEqual([
      {
        kind: 'rule',
        key: 'rule:hot',
        ruleId: 'hot',
        ruleName: 'Overheating',
        count: 3,
        unacknowledged: 2,
        on: 3,
        severity: 'critical',
        expanded: true,
      },
      {
        kind: 'rule',
        key: 'rule:volt',
        ruleId: 'volt',
        ruleName: 'Voltage low',
        count: 2,
        unacknowledged: 2,
        on: 1,
        severity: 'warning',
        expanded: false,
      },
    ]);
  });

  it('by rule: a rule whose alerts all cleared comes after those with one on, whatever its severity', () => {
    const cleared = { state: 'cleared' as const, clearedAt: T0 + 5 };
    const list = [
      alertEvent({ ruleId: 'gone', severity: 'critical', ...cleared }),
      alertEvent({ ruleId: 'gone', severity: 'major', ...cleared }),
      alertEvent({ ruleId: 'mixed', severity: 'critical', ...cleared }),
      alertEvent({ ruleId: 'info', severity: 'info' }),
      alertEvent({ ruleId: 'mixed', severity: 'minor' }),
    ].sort(compareAlerts);
    expect(
      ruleRows(list, new Set()).map((r) => (r.kind === 'rule' ? [r.ruleId, r.severity, r.on] : [])),
    ).toEqual([
      ['mixed', 'minor', 1],
      ['info', 'info', 1],
      ['gone', 'critical', 0],
    ]);
  });

  it('by rule: rules of equal severity order by size, then name', () => {
    // A rule without a name: the gateway names its alerts by the rule's id (never empty).
    const list = [
      alertEvent({ ruleId: 'b', ruleName: 'Bravo', severity: 'minor' }),
      alertEvent({ ruleId: 'a', ruleName: 'Alpha', severity: 'minor' }),
      alertEvent({ ruleId: 'c', ruleName: 'c', severity: 'minor' }),
      alertEvent({ ruleId: 'c', ruleName: 'c', severity: 'minor' }),
    ];
    expect(
      ruleRows(list, new Set()).map((r) => (r.kind === 'rule' ? `${r.ruleName}:${r.count}` : '')),
    ).toEqual(['c:2', 'Alpha:1', 'Bravo:1']);
  });

  it('stays linear: 5,000 alerts over 3 rules group in one pass', () => {
    const list = Array.from({ length: 5000 }, (_, i) =>
      alertEvent({ id: `s${i}`, ruleId: `r${i % 3}`, deviceId: `sim-${i}` }),
    );
    const rows = ruleRows(list, new Set(['r1']));
    expect(rows).toHaveLength(3 + 1667);
    expect(
      rows.filter((r) => r.kind === 'rule').map((r) => (r.kind === 'rule' ? r.count : 0)),
    ).toEqual([1667, 1667, 1666]);
  });
});
