import type { AlertRule } from '@pulse/protocol/core';
import {
  SEVERITY_COLORS,
  ThresholdLine,
  suggestedRange,
  thresholdGeometry,
  thresholdLinesFor,
  thresholdLinesPlugin,
} from './threshold-lines';

const rule = (over: Partial<AlertRule> & Record<string, unknown>): AlertRule =>
  ({
    id: 'r',
    kind: 'threshold',
    metric: 'temperature',
    op: 'above',
    value: 68,
    severity: 'major',
    scope: { all: true },
    enabled: true,
    forMs: 0,
    clearForMs: 0,
    ...over,
  }) as AlertRule;

describe('thresholdLinesFor', () => {
  it('lists raise and (different) clear levels of threshold rules that watch this device and metric', () => {
    const rules: AlertRule[] = [
      rule({ id: 'hot', name: 'Overheating', value: 68, clear: 66 }),
      rule({ id: 'same', value: 90, clear: 90, severity: 'critical' }),
      rule({ id: 'other-metric', metric: 'co2' }),
      rule({ id: 'disabled', enabled: false }),
      rule({ id: 'other-device', scope: { device: 'd9' } }),
      rule({ id: 'mine', scope: { device: 'd1' }, op: 'below', value: 5, severity: 'info' }),
      rule({
        id: 'my-group',
        scope: { group: 'hall-a' },
        op: 'outside',
        value: undefined,
        low: 10,
        high: 30,
        clearLow: 12,
        clearHigh: 30,
        severity: 'minor',
      }),
      {
        id: 'nd',
        kind: 'nodata',
        silenceMs: 1000,
        severity: 'minor',
        scope: { all: true },
        enabled: true,
      } as AlertRule,
    ];
    const lines = thresholdLinesFor(rules, 'd1', 'hall-a', 'temperature');
    expect(lines).toEqual([
      { value: 68, kind: 'raise', severity: 'major', label: 'Overheating > 68' },
      { value: 66, kind: 'clear', severity: 'major', label: 'Overheating clear' },
      { value: 90, kind: 'raise', severity: 'critical', label: 'same > 90' },
      { value: 5, kind: 'raise', severity: 'info', label: 'mine < 5' },
      { value: 10, kind: 'raise', severity: 'minor', label: 'my-group < 10' },
      { value: 30, kind: 'raise', severity: 'minor', label: 'my-group > 30' },
      { value: 12, kind: 'clear', severity: 'minor', label: 'my-group clear' },
    ]);
    expect(thresholdLinesFor(rules, 'd2', null, 'temperature').map((l) => l.label)).toEqual([
      'Overheating > 68',
      'Overheating clear',
      'same > 90',
    ]);
  });
});

describe('thresholdGeometry', () => {
  const area = { left: 40, right: 640, top: 10, bottom: 210 }; // 200 px tall
  const lines: ThresholdLine[] = [
    { value: 50, kind: 'raise', severity: 'critical', label: 'hot' },
    { value: 25, kind: 'clear', severity: 'critical', label: 'clear' },
    { value: 0, kind: 'raise', severity: 'info', label: 'bottom' },
    { value: 100, kind: 'raise', severity: 'info', label: 'top' },
    { value: 101, kind: 'raise', severity: 'info', label: 'above range' },
    { value: -1, kind: 'raise', severity: 'info', label: 'below range' },
  ];

  it('maps values linearly onto the chart area, full width, clear levels dashed', () => {
    const segments = thresholdGeometry(lines, area, { min: 0, max: 100 });
    expect(segments).toEqual([
      { y: 110.5, x0: 40, x1: 640, dashed: false, color: SEVERITY_COLORS.critical, label: 'hot' },
      { y: 160.5, x0: 40, x1: 640, dashed: true, color: SEVERITY_COLORS.critical, label: 'clear' },
      { y: 210.5, x0: 40, x1: 640, dashed: false, color: SEVERITY_COLORS.info, label: 'bottom' },
      { y: 10.5, x0: 40, x1: 640, dashed: false, color: SEVERITY_COLORS.info, label: 'top' },
    ]);
  });

  it('works for offset and negative ranges', () => {
    const [s] = thresholdGeometry(
      [{ value: -5, kind: 'raise', severity: 'major', label: 'x' }],
      area,
      { min: -10, max: 10 },
    );
    expect(s.y).toBe(160.5);
  });

  it('draws nothing for an empty or degenerate axis or area', () => {
    expect(thresholdGeometry(lines, area, { min: 5, max: 5 })).toEqual([]);
    expect(thresholdGeometry(lines, { ...area, bottom: area.top }, { min: 0, max: 100 })).toEqual(
      [],
    );
    expect(thresholdGeometry(lines, area, { min: NaN, max: 100 })).toEqual([]);
  });

  it('suggests a y range that keeps raise levels in view', () => {
    expect(suggestedRange(lines.slice(0, 2))).toEqual({ min: 50, max: 50 });
    expect(suggestedRange([])).toEqual({ min: undefined, max: undefined });
  });
});

describe('thresholdLinesPlugin', () => {
  it('strokes one line per visible level after the datasets', () => {
    const calls: string[] = [];
    const ctx = new Proxy(
      {},
      {
        get:
          (_t, prop) =>
          (...args: unknown[]) =>
            calls.push(`${String(prop)}(${args.join(',')})`),
        set: (_t, prop, value) => (calls.push(`${String(prop)}=${value}`), true),
      },
    );
    const lines: ThresholdLine[] = [{ value: 50, kind: 'clear', severity: 'major', label: 'L' }];
    const plugin = thresholdLinesPlugin(() => lines);
    const chart = {
      ctx,
      chartArea: { left: 0, right: 100, top: 0, bottom: 100 },
      scales: { y: { min: 0, max: 100 } },
    };
    (plugin.afterDatasetsDraw as unknown as (c: unknown) => void)(chart);
    expect(calls).toContain('setLineDash(6,4)');
    expect(calls).toContain('moveTo(0,50.5)');
    expect(calls).toContain('lineTo(100,50.5)');
    expect(calls).toContain('fillText(L,96,48.5)');
    expect(calls.filter((c) => c.startsWith('stroke('))).toHaveLength(1);
  });
});
