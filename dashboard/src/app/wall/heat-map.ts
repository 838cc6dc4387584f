import type { AlertRule, AlertSeverity } from '@pulse/protocol/core';
import { deviceHealth, type HealthInput } from '../core/stores/device-health';

/*
 * The fleet heat map's arithmetic: what state each device's cell shows (by status and alert, or
 * by a metric against its threshold rules), the counts per state, the grid that fits N cells on
 * a screen, a cell's short label and which cell is under a point. Pure (unit tested); it must not
 * read the stores, the clock or the DOM, nor draw (heat-map.component.ts does all of those).
 */

/**
 * What a cell shows. By status: `offline` (the device said so), an alert severity (it has an
 * alert whose condition is on), `stale`, `unknown` (never heard), `online`. By metric: `critical` / `warning`
 * (the latest value is past a rule's raise level of that severity class), `ok`, `novalue`;
 * an offline device stays `offline` in both modes: a dead device must never look green.
 */
export type HeatState =
  | 'online'
  | 'stale'
  | 'offline'
  | 'unknown'
  | AlertSeverity
  | 'ok'
  | 'novalue';

/** Every state in the order the counts strip lists them (worst first). */
export const HEAT_STATES: readonly HeatState[] = [
  'offline',
  'critical',
  'major',
  'minor',
  'warning',
  'info',
  'stale',
  'unknown',
  'novalue',
  'online',
  'ok',
];

/** The states one mode can show, in the order of {@link HEAT_STATES} (the counts strip's). */
export function heatStatesOf(mode: 'status' | 'metric'): HeatState[] {
  const metricOnly: readonly HeatState[] = ['ok', 'novalue'];
  const metricStates: readonly HeatState[] = ['offline', 'critical', 'warning', ...metricOnly];
  return HEAT_STATES.filter((s) =>
    mode === 'metric' ? metricStates.includes(s) : !metricOnly.includes(s),
  );
}

/** Cell fill per state (dark wall background: saturated fills, text drawn in white or black). */
export const HEAT_COLORS: Record<HeatState, string> = {
  offline: '#4b5563',
  critical: '#dc2626',
  major: '#ea580c',
  minor: '#d97706',
  warning: '#ca8a04',
  info: '#2563eb',
  stale: '#7c3aed',
  unknown: '#1f2937',
  novalue: '#1f2937',
  online: '#15803d',
  ok: '#15803d',
};

/** What the heat map needs of a device record (a DeviceState fits). */
export interface HeatDevice extends HealthInput {
  deviceId: string;
  group: string | null;
  latest: Record<string, number>;
}

/**
 * Cell state by status: offline, then the highest severity of the device's alerts whose condition
 * is on (AlertStore.byDevice: one that cleared colours nothing), then its health.
 */
export function statusState(
  device: HeatDevice,
  now: number,
  staleMs: number,
  alert: AlertSeverity | null,
): HeatState {
  if (device.status === 'offline') return 'offline';
  if (alert) return alert;
  const health = deviceHealth(device, now, staleMs);
  return health === 'live' ? 'online' : health === 'waiting' ? 'unknown' : health;
}

type Threshold = Extract<AlertRule, { kind: 'threshold' }>;

/** The enabled threshold rules on `metric` (filter once per draw, not once per device). */
export function thresholdRulesFor(rules: readonly AlertRule[], metric: string): Threshold[] {
  return rules.filter(
    (r): r is Threshold => r.kind === 'threshold' && r.enabled && r.metric === metric,
  );
}

/** Whether `value` is past the rule's raise level (the alert engine adds durations and hysteresis). */
function breaches(rule: Threshold, value: number): boolean {
  if (rule.op === 'above') return rule.value !== undefined && value > rule.value;
  if (rule.op === 'below') return rule.value !== undefined && value < rule.value;
  return (
    (rule.low !== undefined && value < rule.low) || (rule.high !== undefined && value > rule.high)
  );
}

/**
 * Cell state by metric: `critical` when a critical or major rule on the metric that applies to
 * the device (scope all, its group or itself) is breached by its latest value, `warning` for the
 * other severities, `ok` otherwise, `novalue` without a value; offline wins over all of them.
 */
export function metricState(device: HeatDevice, metric: string, rules: Threshold[]): HeatState {
  if (device.status === 'offline') return 'offline';
  const value = device.latest[metric];
  if (value === undefined) return 'novalue';
  let state: HeatState = 'ok';
  for (const rule of rules) {
    const scope = rule.scope ?? { all: true };
    const applies =
      scope.all === true ||
      scope.device === device.deviceId ||
      (scope.group !== undefined && scope.group === device.group);
    if (!applies || !breaches(rule, value)) continue;
    if (rule.severity === 'critical' || rule.severity === 'major') return 'critical';
    state = 'warning';
  }
  return state;
}

/** Cells per state (every state present, zeros included, so the strip does not jump). */
export function heatCounts(states: ArrayLike<HeatState>): Record<HeatState, number> {
  const counts = Object.fromEntries(HEAT_STATES.map((s) => [s, 0])) as Record<HeatState, number>;
  for (let i = 0; i < states.length; i++) counts[states[i]]++;
  return counts;
}

/** Where the cells go: `cols` × `rows` cells of `cellWidth` × `cellHeight` px, `gap` apart. */
export interface HeatLayout {
  cols: number;
  rows: number;
  cellWidth: number;
  cellHeight: number;
  gap: number;
}

/** Cells read best a little wider than tall (a label such as "0042" on one line). */
const CELL_ASPECT = 1.4;

/**
 * The grid for `count` cells in `width` × `height` px: the column count whose cells are largest
 * (judged by min(width, height × 1.4)), cells filling the area. The gap shrinks with the cells
 * (1 px below 16 px cells) so small cells keep their colour area. 2,000 cells on a 3840 × 2060
 * area get 67 × 55 px cells.
 */
export function heatLayout(count: number, width: number, height: number): HeatLayout {
  const n = Math.max(1, count);
  if (!(width > 0) || !(height > 0))
    return { cols: 1, rows: n, cellWidth: 0, cellHeight: 0, gap: 0 };
  const shape = (cols: number, gap: number): HeatLayout => {
    const rows = Math.ceil(n / cols);
    return {
      cols,
      rows,
      cellWidth: Math.max(0, (width - gap * (cols - 1)) / cols),
      cellHeight: Math.max(0, (height - gap * (rows - 1)) / rows),
      gap,
    };
  };
  let best = shape(1, 0);
  let bestScore = -1;
  for (let cols = 1; cols <= n; cols++) {
    const rough = shape(cols, 0);
    const gap = Math.min(rough.cellWidth, rough.cellHeight) >= 16 ? 3 : 1;
    const l = shape(cols, gap);
    const score = Math.min(l.cellWidth, l.cellHeight * CELL_ASPECT);
    if (score > bestScore) {
      best = l;
      bestScore = score;
    }
    // Past the best, wider columns only make cells narrower.
    if (l.cellWidth * CELL_ASPECT < bestScore) break;
  }
  return best;
}

/** Index of the cell under (x, y) in CSS px from the grid's top left, or -1 (gap, outside). */
export function cellAt(layout: HeatLayout, count: number, x: number, y: number): number {
  const { cols, cellWidth, cellHeight, gap } = layout;
  if (!(cellWidth > 0) || !(cellHeight > 0) || x < 0 || y < 0) return -1;
  const col = Math.floor(x / (cellWidth + gap));
  const row = Math.floor(y / (cellHeight + gap));
  if (col >= cols || x - col * (cellWidth + gap) > cellWidth) return -1;
  if (y - row * (cellHeight + gap) > cellHeight) return -1;
  const index = row * cols + col;
  return index < count ? index : -1;
}

/**
 * A label of at most `maxChars` that tells the device apart from its neighbours: the whole id
 * when it fits, else its last run of digits with what follows ("sim-0042" → "0042"), else its
 * tail. Ids of one fleet differ at the end far more often than at the start.
 */
export function cellLabel(deviceId: string, maxChars: number): string {
  if (maxChars <= 0) return '';
  if (deviceId.length <= maxChars) return deviceId;
  const digits = /\d+[^\d]*$/.exec(deviceId);
  if (digits && digits[0].length <= maxChars) return digits[0];
  return deviceId.slice(deviceId.length - maxChars);
}
