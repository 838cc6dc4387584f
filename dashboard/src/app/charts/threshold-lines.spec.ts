import type { AlertRule } from '@pulse/protocol/core';
import {
  LABEL_PX,
  SEVERITY_COLORS,
  ThresholdLine,
  ThresholdSegment,
  placeLabels,
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
      { value: 68, kind: 'raise', severity: 'major', label: 'Overheating > 68', side: 'above' },
      { value: 66, kind: 'clear', severity: 'major', label: 'Overheating clear', side: 'below' },
      { value: 90, kind: 'raise', severity: 'critical', label: 'same > 90', side: 'above' },
      { value: 5, kind: 'raise', severity: 'info', label: 'mine < 5', side: 'below' },
      { value: 10, kind: 'raise', severity: 'minor', label: 'my-group < 10', side: 'below' },
      { value: 30, kind: 'raise', severity: 'minor', label: 'my-group > 30', side: 'above' },
      { value: 12, kind: 'clear', severity: 'minor', label: 'my-group clear', side: 'above' },
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
    { value: 50, kind: 'raise', severity: 'critical', label: 'hot', side: 'above' },
    { value: 25, kind: 'clear', severity: 'critical', label: 'clear', side: 'below' },
    { value: 0, kind: 'raise', severity: 'info', label: 'bottom', side: 'above' },
    { value: 100, kind: 'raise', severity: 'info', label: 'top', side: 'above' },
    { value: 101, kind: 'raise', severity: 'info', label: 'above range', side: 'above' },
    { value: -1, kind: 'raise', severity: 'info', label: 'below range', side: 'above' },
  ];

  it('maps values linearly onto the chart area, full width, clear levels dashed', () => {
    const segments = thresholdGeometry(lines, area, { min: 0, max: 100 });
    const at = (y: number, dashed: boolean, color: string, label: string) => ({
      y,
      x0: 40,
      x1: 640,
      dashed,
      color,
      label,
      kind: dashed ? 'clear' : 'raise',
      side: dashed ? 'below' : 'above',
    });
    expect(segments).toEqual([
      at(110.5, false, SEVERITY_COLORS.critical, 'hot'),
      at(160.5, true, SEVERITY_COLORS.critical, 'clear'),
      at(210.5, false, SEVERITY_COLORS.info, 'bottom'),
      at(10.5, false, SEVERITY_COLORS.info, 'top'),
    ]);
  });

  it('works for offset and negative ranges', () => {
    const [s] = thresholdGeometry(
      [{ value: -5, kind: 'raise', severity: 'major', label: 'x', side: 'above' }],
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
    const lines: ThresholdLine[] = [
      { value: 50, kind: 'clear', severity: 'major', label: 'L', side: 'above' },
    ];
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

describe('threshold labels', () => {
  /** What a label drawn by the plugin covers: its text, colour and the band of y it fills. */
  interface Drawn {
    text: string;
    top: number;
    bottom: number;
  }

  /** Run the plugin on a fake chart and return the labels it wrote, as bands of y. */
  function drawLabels(
    lines: readonly ThresholdLine[],
    area = { left: 0, right: 600, top: 10, bottom: 160 },
    scale = { min: 0, max: 16 },
  ): Drawn[] {
    const drawn: Drawn[] = [];
    const ctx = {
      textBaseline: 'alphabetic',
      fillText(text: string, _x: number, y: number) {
        // An 11 px font: the text fills 11 px above a bottom baseline, below a top one.
        const bottom = this.textBaseline === 'top' ? y + 11 : y;
        drawn.push({ text, top: bottom - 11, bottom });
      },
      save: () => undefined,
      restore: () => undefined,
      setLineDash: () => undefined,
      beginPath: () => undefined,
      moveTo: () => undefined,
      lineTo: () => undefined,
      stroke: () => undefined,
    };
    const plugin = thresholdLinesPlugin(() => lines);
    const chart = { ctx, chartArea: area, scales: { y: scale } };
    (plugin.afterDatasetsDraw as unknown as (c: unknown) => void)(chart);
    return drawn;
  }

  const overlapping = (labels: Drawn[]) =>
    labels.flatMap((a, i) =>
      labels
        .slice(i + 1)
        .filter((b) => a.top < b.bottom && b.top < a.bottom)
        .map((b) => [a.text, b.text]),
    );

  it('writes a rule’s level and clear labels apart when the levels are close (the device page’s vibration)', () => {
    // Vibration high: above 4, clear 3, on an axis of 0…16 in 150 px: the lines are 9 px apart.
    const lines = thresholdLinesFor(
      [rule({ name: 'Vibration high', metric: 'vibration', value: 4, clear: 3 })],
      'd1',
      null,
      'vibration',
    );
    const labels = drawLabels(lines);
    expect(labels.map((l) => l.text).sort()).toEqual([
      'Vibration high > 4',
      'Vibration high clear',
    ]);
    expect(overlapping(labels)).toEqual([]);
  });

  it('keeps the labels of a below rule and of an outside rule apart too', () => {
    const lines = thresholdLinesFor(
      [
        rule({ id: 'cold', op: 'below', value: 3, clear: 4 }),
        rule({
          id: 'band',
          op: 'outside',
          value: undefined,
          low: 8,
          high: 12,
          clearLow: 8.5,
          clearHigh: 11.5,
        }),
      ],
      'd1',
      null,
      'temperature',
    );
    const labels = drawLabels(lines, { left: 0, right: 600, top: 10, bottom: 330 });
    expect(labels).toHaveLength(6);
    expect(overlapping(labels)).toEqual([]);
  });
});

describe('placeLabels', () => {
  const area = { left: 0, right: 600, top: 0, bottom: 200 };
  const segment = (
    y: number,
    kind: ThresholdSegment['kind'],
    side: ThresholdSegment['side'],
    label = `${kind} at ${y}`,
  ): ThresholdSegment => ({
    y,
    x0: 0,
    x1: 600,
    dashed: kind === 'clear',
    color: '#000',
    label,
    kind,
    side,
  });

  it('writes each label on its own side of its line when there is room', () => {
    expect(
      placeLabels([segment(100.5, 'raise', 'above'), segment(150.5, 'clear', 'below')], area),
    ).toEqual([
      { y: 98.5, side: 'above' },
      { y: 152.5, side: 'below' },
    ]);
  });

  it('moves a label to the other side of its line when the side it prefers is taken', () => {
    // Two rules' raise levels 5 px apart, both labelled above: the second goes below its line.
    expect(
      placeLabels([segment(100.5, 'raise', 'above'), segment(105.5, 'raise', 'above')], area),
    ).toEqual([
      { y: 98.5, side: 'above' },
      { y: 107.5, side: 'below' },
    ]);
  });

  it('places raise labels first and leaves out a clear label with no room on either side', () => {
    // The clear level lies between two raise levels whose labels fill the room around it.
    const placed = placeLabels(
      [
        segment(100.5, 'clear', 'below'),
        segment(96.5, 'raise', 'above'),
        segment(104.5, 'raise', 'below'),
      ],
      area,
    );
    expect(placed).toEqual([null, { y: 94.5, side: 'above' }, { y: 106.5, side: 'below' }]);
  });

  it('keeps labels inside the chart area', () => {
    expect(placeLabels([segment(5.5, 'raise', 'above')], area)).toEqual([
      { y: 7.5, side: 'below' },
    ]);
    expect(placeLabels([segment(195.5, 'clear', 'below')], area)).toEqual([
      { y: 193.5, side: 'above' },
    ]);
    expect(
      placeLabels([segment(5.5, 'raise', 'above')], { ...area, bottom: LABEL_PX + 4 }),
    ).toEqual([null]);
  });
});
