import {
  ALERT_SEVERITIES,
  DS,
  DeviceSummary,
  FleetSummary,
  FleetSummaryPage,
  FleetSummaryQuery,
  LIMITS,
} from '@pulse/protocol';

/**
 * Sort, search and paging of the fleet summary for `GET /api/fleet/summary`, so that a dashboard
 * finds and orders devices across the whole fleet without holding or rendering it. Pure: owns
 * the ordering rules only (documented on FleetSummaryQuerySchema).
 */
export function pageOf(summary: FleetSummary, query: FleetSummaryQuery): FleetSummaryPage {
  let devices = summary.devices;
  const q = query.q?.trim().toLowerCase();
  if (q) devices = devices.filter((d) => matches(d, q));
  const sort = query.sort ?? 'name';
  const order = query.order ?? (sort === 'name' ? 'asc' : 'desc');
  const key = sortKey(sort, summary.metrics);
  const sign = order === 'asc' ? 1 : -1;
  // Devices without a key (no value of the metric, never seen) go last in either order; ties by id.
  const keyed = devices.map((device) => ({ device, key: key(device) }));
  keyed.sort((a, b) => {
    if (a.key === null || b.key === null) {
      if (a.key !== b.key) return a.key === null ? 1 : -1;
    } else if (a.key !== b.key) return (a.key < b.key ? -1 : 1) * sign;
    const ia = a.device[DS.id];
    const ib = b.device[DS.id];
    return ia < ib ? -1 : ia > ib ? 1 : 0;
  });
  const offset = query.offset ?? 0;
  const limit = query.limit ?? LIMITS.maxSummaryPage;
  return {
    at: summary.at,
    metrics: summary.metrics,
    total: keyed.length,
    devices: keyed.slice(offset, offset + limit).map((k) => k.device),
  };
}

function matches(device: DeviceSummary, q: string): boolean {
  const name = device[DS.name];
  return device[DS.id].toLowerCase().includes(q) || (name?.toLowerCase().includes(q) ?? false);
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
