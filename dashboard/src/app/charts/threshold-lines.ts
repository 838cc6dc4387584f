import type { AlertRule, AlertSeverity } from '@pulse/protocol/core';
import type { Chart, Plugin } from 'chart.js';

/*
 * Alert thresholds on charts: which levels of the rules apply to a device's metric, where they
 * fall on the y axis, and the Chart.js plugin that draws them. Pure apart from the plugin's
 * drawing; it must not fetch rules (AlertRulesService, read by the device page and the wall
 * tiles) nor evaluate them: whether an alert fires is the backend's alert engine's call.
 */

/** One horizontal level to draw on a chart. */
export interface ThresholdLine {
  value: number;
  /** `raise`: the level that raises the alert (solid); `clear`: the level that clears it (dashed). */
  kind: 'raise' | 'clear';
  severity: AlertSeverity;
  label: string;
}

export const SEVERITY_COLORS: Record<AlertSeverity, string> = {
  critical: '#dc2626',
  major: '#ea580c',
  minor: '#d97706',
  warning: '#ca8a04',
  info: '#2563eb',
};

/**
 * The levels of the enabled threshold rules that watch this device's metric
 * (scope: the device, its group, or all). Clear levels are only listed when
 * they differ from the raise level (hysteresis).
 */
export function thresholdLinesFor(
  rules: readonly AlertRule[],
  deviceId: string,
  group: string | null,
  metric: string,
): ThresholdLine[] {
  const lines: ThresholdLine[] = [];
  for (const rule of rules) {
    if (rule.kind !== 'threshold' || !rule.enabled || rule.metric !== metric) continue;
    const scope = rule.scope ?? { all: true };
    const applies =
      scope.all === true ||
      scope.device === deviceId ||
      (scope.group !== undefined && scope.group === group);
    if (!applies) continue;
    const name = rule.name ?? rule.id;
    const add = (value: number | undefined, kind: ThresholdLine['kind'], label: string) => {
      if (value !== undefined && Number.isFinite(value))
        lines.push({ value, kind, severity: rule.severity, label });
    };
    if (rule.op === 'outside') {
      add(rule.low, 'raise', `${name} < ${rule.low}`);
      add(rule.high, 'raise', `${name} > ${rule.high}`);
      if (rule.clearLow !== undefined && rule.clearLow !== rule.low)
        add(rule.clearLow, 'clear', `${name} clear`);
      if (rule.clearHigh !== undefined && rule.clearHigh !== rule.high)
        add(rule.clearHigh, 'clear', `${name} clear`);
    } else {
      add(rule.value, 'raise', `${name} ${rule.op === 'above' ? '>' : '<'} ${rule.value}`);
      if (rule.clear !== undefined && rule.clear !== rule.value)
        add(rule.clear, 'clear', `${name} clear`);
    }
  }
  return lines;
}

/** Pixel segment of one threshold line. */
export interface ThresholdSegment {
  y: number;
  x0: number;
  x1: number;
  dashed: boolean;
  color: string;
  label: string;
}

export interface ChartArea {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/**
 * Where each line goes on a linear y axis spanning [min, max] drawn in `area`
 * (pure, unit tested). Lines outside the axis range are left out rather than
 * pinned to the edge, which would lie about the level. y is rounded to the
 * nearest half pixel so 1 px lines are crisp.
 */
export function thresholdGeometry(
  lines: readonly ThresholdLine[],
  area: ChartArea,
  scale: { min: number; max: number },
): ThresholdSegment[] {
  const span = scale.max - scale.min;
  const height = area.bottom - area.top;
  if (!(span > 0) || !(height > 0) || !(area.right > area.left)) return [];
  const out: ThresholdSegment[] = [];
  for (const line of lines) {
    if (line.value < scale.min || line.value > scale.max) continue;
    const y = area.bottom - ((line.value - scale.min) / span) * height;
    out.push({
      y: Math.round(y) + 0.5,
      x0: area.left,
      x1: area.right,
      dashed: line.kind === 'clear',
      color: SEVERITY_COLORS[line.severity] ?? '#6b7280',
      label: line.label,
    });
  }
  return out;
}

/** y-axis bounds that keep raise levels in view (clear levels follow when close). */
export function suggestedRange(lines: readonly ThresholdLine[]): { min?: number; max?: number } {
  let min: number | undefined;
  let max: number | undefined;
  for (const line of lines) {
    if (line.kind !== 'raise') continue;
    min = min === undefined ? line.value : Math.min(min, line.value);
    max = max === undefined ? line.value : Math.max(max, line.value);
  }
  return { min, max };
}

/**
 * A tiny Chart.js plugin (no dependency) that draws the lines returned by
 * `lines()` across the chart area after the datasets, with a small label.
 */
export function thresholdLinesPlugin(
  lines: () => readonly ThresholdLine[],
  options: { labels?: boolean | (() => boolean) } = {},
): Plugin<'line'> {
  const labels =
    typeof options.labels === 'function' ? options.labels : () => options.labels !== false;
  return {
    id: 'pulseThresholdLines',
    afterDatasetsDraw(chart: Chart<'line'>) {
      const current = lines();
      if (!current.length) return; // no thresholds: no work
      const y = chart.scales['y'];
      if (!y) return;
      const segments = thresholdGeometry(current, chart.chartArea, { min: y.min, max: y.max });
      if (!segments.length) return;
      const ctx = chart.ctx;
      const showLabels = labels();
      ctx.save();
      ctx.lineWidth = 1.5;
      ctx.font = '11px system-ui, sans-serif';
      ctx.textAlign = 'right';
      ctx.textBaseline = 'bottom';
      for (const s of segments) {
        ctx.strokeStyle = s.color;
        ctx.setLineDash(s.dashed ? [6, 4] : []);
        ctx.beginPath();
        ctx.moveTo(s.x0, s.y);
        ctx.lineTo(s.x1, s.y);
        ctx.stroke();
        if (showLabels) {
          ctx.fillStyle = s.color;
          ctx.fillText(s.label, s.x1 - 4, s.y - 2);
        }
      }
      ctx.restore();
    },
  };
}
