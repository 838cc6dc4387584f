import type { AlertEvent, AlertSeverity, AlertState } from '@pulse/protocol/core';
import { isConditionOn } from '@pulse/protocol/core';
import {
  compareAlerts,
  emptyCounts,
  isUnacknowledged,
  severityRank,
} from '../core/stores/alert.store';
import type { SeverityCounts } from '../core/stores/alert.store';

/*
 * What the alerts page shows of the active list, as pure functions: the counts of the summary
 * strip, the filter, the sort orders and the rows of the virtual scroller (flat, or one heading per
 * rule with its alerts under it when expanded). Owns no state and must not read the stores or the
 * DOM: the page passes the list in and draws the rows out.
 */

/** Height of every row of the virtual list, alert or rule heading (CSS: `.alert-vrow`). */
export const ALERT_ROW_PX = 64;
/**
 * The same on a phone (PHONE_MEDIA; CSS: `.alert-vrow` under `@media (max-width: 700px)`): the
 * row stacked, its message on up to 4 lines of the row's whole width (a rule name of the longest,
 * 128 characters, and its figures), the figures and the Acknowledge button on lines of their own.
 */
export const ALERT_ROW_PHONE_PX = 184;

export type AlertSort = 'severity' | 'newest' | 'device';
export const ALERT_SORTS: readonly { value: AlertSort; label: string }[] = [
  { value: 'severity', label: 'severity' },
  { value: 'newest', label: 'newest' },
  { value: 'device', label: 'device' },
];

/** `unacknowledged`: nobody acknowledged it yet; `acknowledged`: someone did. */
export type AckFilter = '' | 'unacknowledged' | 'acknowledged';

export interface AlertFilter {
  severity: AlertSeverity | '';
  state: AlertState | '';
  ack: AckFilter;
  /** Case-insensitive part of the device id or display name. */
  device: string;
}

export interface AlertCounts {
  total: number;
  /** Per severity, the alerts whose condition is on (isConditionOn). */
  severity: SeverityCounts;
  /** Per severity, the alerts that cleared and wait for an acknowledgement. */
  cleared: SeverityCounts;
  unacknowledged: number;
  acknowledged: number;
}

/** The summary strip's numbers, over the whole list in one pass. */
export function countAlerts(alerts: readonly AlertEvent[]): AlertCounts {
  const severity = emptyCounts();
  const cleared = emptyCounts();
  let unacknowledged = 0;
  for (const alert of alerts) {
    const counts = isConditionOn(alert) ? severity : cleared;
    counts[alert.severity] = (counts[alert.severity] ?? 0) + 1;
    if (isUnacknowledged(alert)) unacknowledged++;
  }
  return {
    total: alerts.length,
    severity,
    cleared,
    unacknowledged,
    acknowledged: alerts.length - unacknowledged,
  };
}

/** The alerts matching every part of the filter set (order kept). */
export function filterAlerts(
  alerts: readonly AlertEvent[],
  filter: AlertFilter,
  nameOf: (deviceId: string) => string | undefined = () => undefined,
): readonly AlertEvent[] {
  const text = filter.device.trim().toLowerCase();
  if (!filter.severity && !filter.state && !filter.ack && !text) return alerts;
  return alerts.filter(
    (a) =>
      (!filter.severity || a.severity === filter.severity) &&
      (!filter.state || a.state === filter.state) &&
      (!filter.ack || (filter.ack === 'unacknowledged') === isUnacknowledged(a)) &&
      (!text ||
        a.deviceId.toLowerCase().includes(text) ||
        (nameOf(a.deviceId)?.toLowerCase().includes(text) ?? false)),
  );
}

const byId = (a: AlertEvent, b: AlertEvent) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const COMPARE: Record<AlertSort, (a: AlertEvent, b: AlertEvent) => number> = {
  severity: compareAlerts,
  newest: (a, b) =>
    b.raisedAt - a.raisedAt || severityRank(a.severity) - severityRank(b.severity) || byId(a, b),
  device: (a, b) =>
    (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0) || compareAlerts(a, b),
};

/** A sorted copy; the store's list is already in severity order, so that one is returned as is. */
export function sortAlerts(alerts: readonly AlertEvent[], sort: AlertSort): readonly AlertEvent[] {
  return sort === 'severity' ? alerts : [...alerts].sort(COMPARE[sort]);
}

export interface RuleHeadingRow {
  kind: 'rule';
  key: string;
  ruleId: string;
  ruleName: string;
  count: number;
  unacknowledged: number;
  /** Its alerts whose condition is on (isConditionOn); 0: every one cleared, the heading is muted. */
  on: number;
  /** The most severe of its alerts whose condition is on, or of the cleared ones when none is. */
  severity: AlertSeverity;
  expanded: boolean;
}
export interface AlertRow {
  kind: 'alert';
  key: string;
  alert: AlertEvent;
}
export type AlertListRow = RuleHeadingRow | AlertRow;

/** One row per alert, in the given order. */
export function flatRows(alerts: readonly AlertEvent[]): AlertListRow[] {
  return alerts.map((alert) => ({ kind: 'alert', key: alert.id, alert }));
}

/**
 * One heading per rule (rules with an alert whose condition is on first, then the most severe,
 * the most alerts, the name), each followed by its alerts (in the order given) when its id is in
 * `expanded`.
 */
export function ruleRows(
  alerts: readonly AlertEvent[],
  expanded: ReadonlySet<string>,
): AlertListRow[] {
  const groups = new Map<string, { heading: RuleHeadingRow; alerts: AlertEvent[] }>();
  for (const alert of alerts) {
    let group = groups.get(alert.ruleId);
    if (!group) {
      group = {
        heading: {
          kind: 'rule',
          key: `rule:${alert.ruleId}`,
          ruleId: alert.ruleId,
          ruleName: alert.ruleName,
          count: 0,
          unacknowledged: 0,
          on: 0,
          severity: alert.severity,
          expanded: expanded.has(alert.ruleId),
        },
        alerts: [],
      };
      groups.set(alert.ruleId, group);
    }
    const h = group.heading;
    h.count++;
    if (isUnacknowledged(alert)) h.unacknowledged++;
    const on = isConditionOn(alert);
    if (on) h.on++;
    // The severity of its alerts on; of its cleared ones while none is (the first on replaces it).
    if (on && h.on === 1) h.severity = alert.severity;
    else if ((on || h.on === 0) && severityRank(alert.severity) < severityRank(h.severity))
      h.severity = alert.severity;
    if (h.expanded) group.alerts.push(alert);
  }
  const ordered = [...groups.values()].sort(
    (a, b) =>
      Number(b.heading.on > 0) - Number(a.heading.on > 0) ||
      severityRank(a.heading.severity) - severityRank(b.heading.severity) ||
      b.heading.count - a.heading.count ||
      a.heading.ruleName.localeCompare(b.heading.ruleName),
  );
  const rows: AlertListRow[] = [];
  for (const group of ordered) {
    rows.push(group.heading);
    for (const alert of group.alerts) rows.push({ kind: 'alert', key: alert.id, alert });
  }
  return rows;
}
