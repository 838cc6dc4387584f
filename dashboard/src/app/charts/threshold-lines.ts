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
  /**
   * Side of the line its label goes on when there is room: a raise level's label on the side
   * that raises (`> 4` above its line), a clear level's away from its raise level, so the two
   * labels of one rule point away from each other however close the levels are.
   */
  side: 'above' | 'below';
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
    const add = (
      value: number | undefined,
      kind: ThresholdLine['kind'],
      label: string,
      side: ThresholdLine['side'],
    ) => {
      if (value !== undefined && Number.isFinite(value))
        lines.push({ value, kind, severity: rule.severity, label, side });
    };
    /** A clear level's label goes away from the level it clears. */
    const clearSide = (clear: number, raise: number | undefined) =>
      raise !== undefined && clear > raise ? 'above' : 'below';
    if (rule.op === 'outside') {
      add(rule.low, 'raise', `${name} < ${rule.low}`, 'below');
      add(rule.high, 'raise', `${name} > ${rule.high}`, 'above');
      if (rule.clearLow !== undefined && rule.clearLow !== rule.low)
        add(rule.clearLow, 'clear', `${name} clear`, clearSide(rule.clearLow, rule.low));
      if (rule.clearHigh !== undefined && rule.clearHigh !== rule.high)
        add(rule.clearHigh, 'clear', `${name} clear`, clearSide(rule.clearHigh, rule.high));
    } else {
      const above = rule.op === 'above';
      add(
        rule.value,
        'raise',
        `${name} ${above ? '>' : '<'} ${rule.value}`,
        above ? 'above' : 'below',
      );
      if (rule.clear !== undefined && rule.clear !== rule.value)
        add(rule.clear, 'clear', `${name} clear`, clearSide(rule.clear, rule.value));
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
  /** Whether the level raises (its label is placed first) or clears. */
  kind: ThresholdLine['kind'];
  side: ThresholdLine['side'];
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
      kind: line.kind,
      side: line.side,
    });
  }
  return out;
}

/** Height of a label's box (px): the 11 px font and a pixel of room. */
export const LABEL_PX = 12;
/** Gap between a line and its label (px). */
const LABEL_GAP_PX = 2;

/** Where a label is written: baseline `y`, text `above` (baseline bottom) or `below` (top) it. */
export interface LabelPlacement {
  y: number;
  side: ThresholdLine['side'];
}

/**
 * Where each segment's label goes (pure, unit tested): on its line's preferred side, else on the
 * other, inside the chart area and clear of the labels placed before it; null where neither side
 * has room (its line is still drawn, in its rule's colour, beside the labelled ones). Raise
 * labels are placed before clear labels, so a level's number is the one kept. The labels are all
 * right-aligned at the same x, so any two overlap across; only their heights are compared.
 */
export function placeLabels(
  segments: readonly ThresholdSegment[],
  area: ChartArea,
): (LabelPlacement | null)[] {
  const placed: Array<{ top: number; bottom: number }> = [];
  const out: (LabelPlacement | null)[] = segments.map(() => null);
  const order = segments
    .map((_, i) => i)
    .sort((a, b) => Number(segments[a].kind === 'clear') - Number(segments[b].kind === 'clear'));
  for (const i of order) {
    const s = segments[i];
    const other = s.side === 'above' ? 'below' : 'above';
    for (const side of [s.side, other] as const) {
      const top = side === 'above' ? s.y - LABEL_GAP_PX - LABEL_PX : s.y + LABEL_GAP_PX;
      const bottom = top + LABEL_PX;
      if (top < area.top || bottom > area.bottom) continue;
      if (placed.some((p) => top < p.bottom && p.top < bottom)) continue;
      placed.push({ top, bottom });
      out[i] = { y: side === 'above' ? bottom : top, side };
      break;
    }
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
 * `lines()` across the chart area after the datasets, with a small label where
 * {@link placeLabels} finds it room.
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
      const placements = showLabels ? placeLabels(segments, chart.chartArea) : [];
      for (let i = 0; i < segments.length; i++) {
        const s = segments[i];
        ctx.strokeStyle = s.color;
        ctx.setLineDash(s.dashed ? [6, 4] : []);
        ctx.beginPath();
        ctx.moveTo(s.x0, s.y);
        ctx.lineTo(s.x1, s.y);
        ctx.stroke();
        const at = placements[i];
        if (at) {
          ctx.fillStyle = s.color;
          ctx.textBaseline = at.side === 'above' ? 'bottom' : 'top';
          ctx.fillText(s.label, s.x1 - 4, at.y);
        }
      }
      ctx.restore();
    },
  };
}
