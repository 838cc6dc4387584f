import {
  ALERT_SEVERITIES,
  DS,
  DeviceSummary,
  FleetGroupCount,
  FleetSummary,
  FleetSummaryPage,
  FleetSummaryQuery,
  LIMITS,
} from '@pulse/protocol';

/**
 * Sort, search and paging of the fleet summary for `GET /api/fleet/summary`, so that a dashboard
 * finds and orders devices across the whole fleet without holding or rendering it: the overview
 * asks for the rows around its screen once a second. Pure but for a small cache: owns the
 * ordering rules (documented on FleetSummaryQuerySchema) and the memo of orders already taken
 * of one snapshot.
 */
export function pageOf(summary: FleetSummary, query: FleetSummaryQuery): FleetSummaryPage {
  const { devices, groups, truncated } = ordered(summary, query);
  const offset = query.offset ?? 0;
  const limit = query.limit ?? LIMITS.maxSummaryPage;
  const page: FleetSummaryPage = {
    at: summary.at,
    metrics: summary.metrics,
    total: devices.length,
    fleet: summary.devices.length,
    groups,
    devices: devices.slice(offset, offset + limit),
  };
  if (truncated) page.groupsTruncated = true;
  return page;
}

/**
 * Distinct queries (everything but offset and limit) whose order is kept per snapshot, first
 * come. The unscoped snapshot is shared for a second (FleetSummaryModel.snapshot): every
 * dashboard showing the same list pages one sort of it. Beyond this many, a query is sorted for
 * its caller alone; so is every query of a scoped caller, whose snapshot is built per request.
 */
export const ORDERS_PER_SNAPSHOT = 16;

interface Ordered {
  devices: DeviceSummary[];
  groups: FleetGroupCount[];
  truncated: boolean;
}

const orders = new WeakMap<FleetSummary, Map<string, Ordered>>();

function ordered(summary: FleetSummary, query: FleetSummaryQuery): Ordered {
  const key = JSON.stringify([
    query.sort ?? '',
    query.order ?? '',
    query.q?.trim().toLowerCase() ?? '',
    query.group ?? '',
    query.grouped ?? false,
  ]);
  let memo = orders.get(summary);
  const known = memo?.get(key);
  if (known) return known;
  const result = order(summary, query);
  if (!memo) orders.set(summary, (memo = new Map()));
  if (memo.size < ORDERS_PER_SNAPSHOT) memo.set(key, result);
  return result;
}

function order(summary: FleetSummary, query: FleetSummaryQuery): Ordered {
  const q = query.q?.trim().toLowerCase();
  const counts = new Map<string | null, number>();
  const matched: DeviceSummary[] = [];
  for (const device of summary.devices) {
    const group = device[DS.group];
    const match = (!q || matches(device, q)) && (!query.group || group === query.group);
    counts.set(group, (counts.get(group) ?? 0) + (match ? 1 : 0));
    if (match) matched.push(device);
  }
  const names = [...counts.keys()].sort(byGroup);
  const groups = names
    .slice(0, LIMITS.maxSummaryGroups)
    .map((name) => ({ name, count: counts.get(name) ?? 0 }));

  const sort = query.sort ?? 'name';
  const sign = (query.order ?? (sort === 'name' ? 'asc' : 'desc')) === 'asc' ? 1 : -1;
  const key = sortKey(sort, summary.metrics);
  const rank = query.grouped ? new Map(names.map((name, i) => [name, i])) : null;
  // Devices without a key (no value of the metric, never seen) go last in either order; ties by id.
  const keyed = matched.map((device) => ({
    device,
    key: key(device),
    group: rank?.get(device[DS.group]) ?? 0,
  }));
  keyed.sort((a, b) => {
    if (a.group !== b.group) return a.group - b.group;
    if (a.key === null || b.key === null) {
      if (a.key !== b.key) return a.key === null ? 1 : -1;
    } else if (a.key !== b.key) return (a.key < b.key ? -1 : 1) * sign;
    const ia = a.device[DS.id];
    const ib = b.device[DS.id];
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  });
  return {
    devices: keyed.map((k) => k.device),
    groups,
    truncated: names.length > LIMITS.maxSummaryGroups,
  };
}

const collator = new Intl.Collator('en');

/** Groups by name as people read them (a handful, so the collator's cost does not matter); devices without a group last. */
function byGroup(a: string | null, b: string | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  return collator.compare(a, b);
}

function matches(device: DeviceSummary, q: string): boolean {
  return (
    device[DS.id].toLowerCase().includes(q) ||
    (device[DS.name]?.toLowerCase().includes(q) ?? false) ||
    (device[DS.group]?.toLowerCase().includes(q) ?? false)
  );
}

type Key = string | number | null;

function sortKey(sort: string, metrics: readonly string[]): (device: DeviceSummary) => Key {
  if (sort === 'name') return (d) => (d[DS.name] ?? d[DS.id]).toLowerCase();
  // Most recent first in desc: a smaller age is a later lastSeen.
  if (sort === 'lastSeen')
    return (d) => {
      const age = d[DS.age];
      return age === null ? null : -age;
    };
  if (sort === 'severity') return severityKey;
  const index = metrics.indexOf(sort.slice('metric:'.length));
  return (d) => (index < 0 ? null : (d[DS.values][index] ?? null));
}

/** More severe first in desc, then more alerts; a device without alerts ranks below `info`. */
function severityKey(device: DeviceSummary): number {
  const alert = device[DS.alert];
  if (!alert) return 0;
  return (ALERT_SEVERITIES.length - ALERT_SEVERITIES.indexOf(alert[0])) * 1e6 + alert[1];
}
