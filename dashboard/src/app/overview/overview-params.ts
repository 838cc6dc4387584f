import { LIMITS, isValidId } from '@pulse/protocol/core';
import { FLEET_SORTS, FleetSort } from './fleet-view';

/**
 * The overview (`/`) keeps what it shows in the URL's query parameters, so a reload, a bookmark,
 * a shared link or a wall screen opens the same list:
 *
 * | param     | example              | meaning                                                      | default |
 * |-----------|----------------------|--------------------------------------------------------------|---------|
 * | `q`       | `q=pump`             | search in id, name and group                                 | –       |
 * | `group`   | `group=hall-a`       | only the devices of this group                               | all     |
 * | `sort`    | `sort=metric:temp`   | `name`, `last-seen`, `severity` or `metric:<name>` (highest) | `name`  |
 * | `grouped` | `grouped=true`       | the list under a heading per group                           | flat    |
 *
 * Defaults are left out of the URL. A value that cannot be one of these (an unknown sort, a
 * search longer than the gateway takes) reads as the default, quietly: a link never breaks the
 * page. A group or metric the fleet does not have (yet) is kept: the fleet may not be in yet.
 *
 * Pure: parsing and writing only; the page reads and writes the URL (core/util/query-state.ts).
 */
export interface OverviewParams {
  q: string;
  group: string;
  sort: FleetSort;
  grouped: boolean;
}

export const OVERVIEW_DEFAULTS: OverviewParams = { q: '', group: '', sort: 'name', grouped: false };

/** Longest search the gateway takes (`GET /api/fleet/summary?q`, FleetSummaryQuerySchema). */
export const SEARCH_MAX_CHARS = LIMITS.maxSearchChars;

type ParamSource = Pick<URLSearchParams, 'get'>;

/** The overview's state in `params` (never throws; anything unreadable is its default). */
export function parseOverviewParams(params: ParamSource): OverviewParams {
  const q = params.get('q') ?? '';
  const group = params.get('group') ?? '';
  const sort = params.get('sort') ?? '';
  return {
    q: q.length <= SEARCH_MAX_CHARS ? q : OVERVIEW_DEFAULTS.q,
    group: group.length <= LIMITS.maxNameLength ? group : OVERVIEW_DEFAULTS.group,
    sort: isFleetSort(sort) ? sort : OVERVIEW_DEFAULTS.sort,
    grouped: params.get('grouped') === 'true',
  };
}

/** The query parameters of `state`: null for a default (left out of the URL). */
export function overviewQueryParams(
  state: OverviewParams,
): Record<keyof OverviewParams, string | null> {
  const q = state.q.trim();
  return {
    q: q || null,
    group: state.group || null,
    sort: state.sort === OVERVIEW_DEFAULTS.sort ? null : state.sort,
    grouped: state.grouped ? 'true' : null,
  };
}

function isFleetSort(value: string): value is FleetSort {
  if (FLEET_SORTS.some((s) => s.value === value)) return true;
  return value.startsWith('metric:') && isValidId(value.slice('metric:'.length));
}
