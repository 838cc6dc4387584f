import type { FleetSummaryPage } from '@pulse/protocol/core';
import { LIMITS } from '@pulse/protocol/core';
import { SummaryDevice, summaryEntry } from './fleet-summary';

/*
 * `GET /api/fleet/summary` for dashboard specs: a FETCH that answers pages of a fleet the spec
 * holds (and changes), and records what was asked. It orders the way the gateway documents
 * (FleetSummaryQuerySchema; the gateway's own rules are tested in the backend's fleet-query
 * spec) in the simplest form: name, then the sort's value, groups by name with ungrouped last.
 * Test-only; answers nothing else (404).
 */

const SEVERITY: Record<string, number> = { critical: 4, major: 3, minor: 2, warning: 1, info: 0.5 };

export interface FakeFleetPages {
  fetch: typeof fetch;
  /** The fleet answered from: replace or mutate it between requests. */
  devices: SummaryDevice[];
  metrics: string[];
  /** Every query asked, as URLSearchParams. */
  asked: URLSearchParams[];
  /** Answer nothing (the fetch fails) while true. */
  down: boolean;
}

export function fakeFleetPages(devices: SummaryDevice[], metrics: string[]): FakeFleetPages {
  const fake: FakeFleetPages = {
    devices,
    metrics,
    asked: [],
    down: false,
    fetch: async (input) => {
      const url = new URL(String(input), 'http://pulse.test');
      if (url.pathname !== '/api/fleet/summary')
        return { ok: false, status: 404, json: async () => ({}) } as Response;
      if (fake.down) throw new TypeError('offline');
      fake.asked.push(url.searchParams);
      // Through JSON, as it would come over HTTP.
      const body = JSON.stringify(page(fake.devices, fake.metrics, url.searchParams));
      return { ok: true, status: 200, json: async () => JSON.parse(body) } as Response;
    },
  };
  return fake;
}

function page(devices: SummaryDevice[], metrics: string[], p: URLSearchParams): FleetSummaryPage {
  const q = (p.get('q') ?? '').toLowerCase();
  const group = p.get('group');
  const sort = p.get('sort') ?? 'name';
  const hit = (d: SummaryDevice) =>
    (!group || d.group === group) &&
    (!q || [d.id, d.name ?? '', d.group ?? ''].some((s) => s.toLowerCase().includes(q)));
  const name = (d: SummaryDevice) => (d.name ?? d.id).toLowerCase();
  const value = (d: SummaryDevice): number => {
    if (sort === 'lastSeen') return -(d.age ?? Infinity);
    if (sort === 'severity') return d.alert ? SEVERITY[d.alert[0]] * 1e6 + d.alert[1] : 0;
    if (sort.startsWith('metric:')) return d.values?.[sort.slice(7)] ?? -Infinity;
    return 0;
  };
  const groupKey = (d: SummaryDevice) =>
    d.group === null || d.group === undefined ? '\uffff' : d.group;
  const matched = devices
    .filter(hit)
    .sort(
      (a, b) =>
        (p.get('grouped') === 'true' ? groupKey(a).localeCompare(groupKey(b)) : 0) ||
        value(b) - value(a) ||
        name(a).localeCompare(name(b)),
    );
  const groups = [...new Set(devices.map((d) => d.group ?? null))]
    .sort((a, b) => (a ?? '\uffff').localeCompare(b ?? '\uffff'))
    .map((g) => ({ name: g, count: matched.filter((d) => (d.group ?? null) === g).length }));
  const offset = Number(p.get('offset') ?? 0);
  const limit = Number(p.get('limit') ?? LIMITS.maxSummaryPage);
  const devicesOfPage = matched.slice(offset, offset + limit).map((d) => summaryEntry(d, metrics));
  return {
    at: Date.now(),
    metrics: [...metrics],
    total: matched.length,
    fleet: devices.length,
    groups,
    devices: devicesOfPage,
  };
}
