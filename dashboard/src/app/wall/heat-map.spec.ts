import type { AlertRule } from '@pulse/protocol/core';
import {
  HeatDevice,
  cellAt,
  cellLabel,
  heatCounts,
  heatLayout,
  heatStatesOf,
  metricState,
  statusState,
  thresholdRulesFor,
} from './heat-map';

const NOW = 1_000_000;

function device(over: Partial<HeatDevice> = {}): HeatDevice {
  return {
    deviceId: 'sim-0042',
    group: 'hall-a',
    latest: {},
    status: 'online',
    lastHeard: NOW - 1000,
    cadenceMs: 1000,
    intervalMs: null,
    ...over,
  };
}

function rule(over: Record<string, unknown>): AlertRule {
  return {
    id: `r-${Math.random()}`,
    kind: 'threshold',
    metric: 'temperature',
    op: 'above',
    value: 30,
    severity: 'critical',
    enabled: true,
    forMs: 0,
    ...over,
  } as unknown as AlertRule;
}

describe('heat map cell state by status', () => {
  it('is online, stale after the threshold, unknown before any word, offline when it said so', () => {
    expect(statusState(device(), NOW, 10_000, null)).toBe('online');
    expect(statusState(device({ lastHeard: NOW - 11_000 }), NOW, 10_000, null)).toBe('stale');
    expect(statusState(device({ lastHeard: null, status: 'unknown' }), NOW, 10_000, null)).toBe(
      'unknown',
    );
    expect(statusState(device({ status: 'offline' }), NOW, 10_000, null)).toBe('offline');
  });

  it('shows the highest active alert over health, but never over offline', () => {
    expect(statusState(device(), NOW, 10_000, 'major')).toBe('major');
    expect(statusState(device({ lastHeard: NOW - 60_000 }), NOW, 10_000, 'warning')).toBe(
      'warning',
    );
    expect(statusState(device({ status: 'offline' }), NOW, 10_000, 'critical')).toBe('offline');
  });
});

describe('heat map cell state by metric', () => {
  const rules = thresholdRulesFor(
    [
      rule({ op: 'above', value: 30, severity: 'warning' }),
      rule({ op: 'above', value: 40, severity: 'critical' }),
      rule({ op: 'below', value: 0, severity: 'major', scope: { group: 'hall-a' } }),
      rule({
        op: 'outside',
        value: undefined,
        low: 5,
        high: 50,
        severity: 'minor',
        scope: { device: 'other' },
      }),
      rule({ op: 'above', value: 1, severity: 'critical', enabled: false }),
      rule({ op: 'above', value: 1, severity: 'critical', metric: 'power' }),
    ],
    'temperature',
  );

  it('keeps only the enabled threshold rules on the metric', () => {
    expect(rules).toHaveLength(4);
  });

  it('is ok inside every level, warning past a warning level, critical past a critical one', () => {
    const at = (v: number) =>
      metricState(device({ latest: { temperature: v } }), 'temperature', rules);
    expect(at(20)).toBe('ok');
    expect(at(35)).toBe('warning');
    expect(at(45)).toBe('critical');
    // Below 0 in hall-a: a major rule of the device's group counts as critical.
    expect(at(-1)).toBe('critical');
    // The outside rule is scoped to another device.
    expect(at(2)).toBe('ok');
  });

  it('says no value without one, and offline whatever the value', () => {
    expect(metricState(device(), 'temperature', rules)).toBe('novalue');
    expect(
      metricState(device({ status: 'offline', latest: { temperature: 20 } }), 'temperature', rules),
    ).toBe('offline');
  });

  it('reads both bounds of an outside rule', () => {
    const outside = thresholdRulesFor(
      [rule({ op: 'outside', value: undefined, low: 5, high: 50, severity: 'info' })],
      'temperature',
    );
    const at = (v: number) =>
      metricState(device({ latest: { temperature: v } }), 'temperature', outside);
    expect([at(4), at(20), at(51)]).toEqual(['warning', 'ok', 'warning']);
  });
});

describe('heat map counts', () => {
  it('lists the states each mode can show, worst first', () => {
    expect(heatStatesOf('metric')).toEqual(['offline', 'critical', 'warning', 'novalue', 'ok']);
    const status = heatStatesOf('status');
    expect(status[0]).toBe('offline');
    expect(status).toHaveLength(9);
    expect(status).toEqual(expect.arrayContaining(['critical', 'info', 'stale', 'online']));
    expect(status).not.toContain('novalue');
  });

  it('counts every state, zeros included', () => {
    const counts = heatCounts(['online', 'online', 'offline', 'critical']);
    expect(counts.online).toBe(2);
    expect(counts.offline).toBe(1);
    expect(counts.critical).toBe(1);
    expect(counts.stale).toBe(0);
  });
});

describe('heat map layout', () => {
  it('fits 2,000 cells on a 4K screen with room for a four-digit label', () => {
    const l = heatLayout(2000, 3840, 2060);
    expect(l.cols * l.rows).toBeGreaterThanOrEqual(2000);
    expect(l.cols * (l.cellWidth + l.gap) - l.gap).toBeLessThanOrEqual(3840 + 0.01);
    expect(l.rows * (l.cellHeight + l.gap) - l.gap).toBeLessThanOrEqual(2060 + 0.01);
    expect(l.cellWidth).toBeGreaterThan(60);
    expect(l.cellHeight).toBeGreaterThan(45);
  });

  it('grows cells as the fleet shrinks and shrinks them (and the gap) as it grows', () => {
    const few = heatLayout(12, 1920, 1080);
    const many = heatLayout(10_000, 1920, 1080);
    expect(few.cellWidth).toBeGreaterThan(300);
    expect(many.cols * many.rows).toBeGreaterThanOrEqual(10_000);
    expect(many.cellWidth).toBeGreaterThan(10);
    expect(many.gap).toBe(1);
    expect(few.gap).toBe(3);
  });

  it('has no size before the area is measured', () => {
    expect(heatLayout(10, 0, 0)).toMatchObject({ cellWidth: 0, cellHeight: 0 });
  });

  it('finds the cell under a point, not in a gap or past the last cell', () => {
    const l = { cols: 4, rows: 3, cellWidth: 10, cellHeight: 10, gap: 2 };
    expect(cellAt(l, 10, 0, 0)).toBe(0);
    expect(cellAt(l, 10, 13, 1)).toBe(1);
    expect(cellAt(l, 10, 11, 1)).toBe(-1); // the gap
    expect(cellAt(l, 10, 1, 25)).toBe(8);
    expect(cellAt(l, 10, 37, 25)).toBe(-1); // index 11 of 10
  });
});

describe('heat map cell labels', () => {
  it('keeps the id whole when it fits, else its distinguishing end', () => {
    expect(cellLabel('pump-7', 8)).toBe('pump-7');
    expect(cellLabel('sim-0042', 5)).toBe('0042');
    expect(cellLabel('boiler-12a', 4)).toBe('12a');
    expect(cellLabel('boiler-room-east', 4)).toBe('east');
    expect(cellLabel('sim-0042', 0)).toBe('');
  });
});
