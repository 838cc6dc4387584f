import type { FleetGroupCount } from '@pulse/protocol/core';

/*
 * How the fleet overview lays out its list, as pure functions: the sort menu and the gateway's
 * names for its sorts, and the list (sorted, filtered and counted by the gateway) cut into rows
 * of tiles with group headings for the virtual scroller, by position. No Angular, no DOM, no
 * state: the page passes the list's size, its groups and the width. It must not render or
 * measure anything itself, nor know which device is at a position (FleetWindow does).
 */

/** How the overview orders the fleet; `name` is the default, `metric:<name>` a metric's latest value. */
export type FleetSort = 'name' | 'last-seen' | 'severity' | `metric:${string}`;
export const FLEET_SORTS: readonly { value: FleetSort; label: string }[] = [
  { value: 'name', label: 'Name' },
  { value: 'last-seen', label: 'Last seen' },
  { value: 'severity', label: 'Alert severity' },
];

/**
 * The sort menu: the fixed orders, then one per metric known in the fleet (highest value first).
 * A group-scoped screen's table has '' for the names of other groups' metrics: no entry for those.
 */
export function fleetSorts(metrics: readonly string[]): { value: FleetSort; label: string }[] {
  return [
    ...FLEET_SORTS,
    ...metrics
      .filter((m) => m !== '')
      .sort((a, b) => collator.compare(a, b))
      .map((m) => ({ value: `metric:${m}` as FleetSort, label: `${m}, highest first` })),
  ];
}

/** The gateway's name for a sort (`GET /api/fleet/summary?sort`). */
export function serverSort(sort: FleetSort): string {
  return sort === 'last-seen' ? 'lastSeen' : sort;
}

/**
 * Narrowest tile (px) and the gap between tiles, as in the stylesheet's `.tile-row`. At 262 a
 * metric's name has about 84 px beside a value such as "27.08 °C" and the 72 px sparkline:
 * "temperature" whole (82 px at 13 px). At 240 the 1,560 px page of a 1920 screen took six tiles
 * of 250 px and cut it to "tempera…" (72 px); it takes five of 302 px now, and a 1400 px screen
 * (1,360 px of page, up to 1,370) keeps its five.
 */
export const TILE_MIN_PX = 262;
export const TILE_GAP_PX = 12;
/** Height of one row of tiles, gap included, and of a group heading (px). */
export const TILE_ROW_PX = 212;
export const HEADING_ROW_PX = 48;

const collator = new Intl.Collator();

/** How many tiles fit side by side in `widthPx`: at least one (a phone shows one per row). */
export function tilesPerRow(widthPx: number, minPx = TILE_MIN_PX, gapPx = TILE_GAP_PX): number {
  return Math.max(1, Math.floor((widthPx + gapPx) / (minPx + gapPx)));
}

/**
 * One row of the virtual list: a group heading, or up to `tilesPerRow` tiles showing the
 * devices at positions `start + slot` of the list the gateway ordered.
 */
export type OverviewRow =
  | { kind: 'heading'; key: string; name: string; count: number }
  | { kind: 'tiles'; key: string; start: number; slots: readonly number[] };

/**
 * The rows of a list of `total` devices, `perRow` a row. With `groups` (the gateway's counts, in
 * the order it lists a grouped query), each group with a match starts with a heading row
 * (`ungrouped` for devices without one) and its devices' rows. Positions only: which device is
 * at a position is the page's to know (FleetWindow), so a fleet of any size costs rows of numbers.
 */
export function layoutRows(
  total: number,
  perRow: number,
  groups: readonly FleetGroupCount[] | null,
): OverviewRow[] {
  const rows: OverviewRow[] = [];
  const slots = slotsUpTo(perRow);
  const pushTiles = (section: string, start: number, count: number) => {
    for (let i = 0; i < count; i += perRow)
      rows.push({
        kind: 'tiles',
        key: `${section}:${i}`,
        start: start + i,
        slots: slots[Math.min(perRow, count - i)],
      });
  };
  if (!groups) {
    pushTiles('all', 0, total);
    return rows;
  }
  let start = 0;
  for (const group of groups) {
    if (group.count === 0) continue;
    // Keys apart from any group's name: a group may be called "ungrouped".
    const section = group.name === null ? '\u0000none' : `g:${group.name}`;
    const name = group.name ?? 'ungrouped';
    rows.push({ kind: 'heading', key: `${section}:heading`, name, count: group.count });
    pushTiles(section, start, group.count);
    start += group.count;
  }
  return rows;
}

/** `[0]`, `[0, 1]`, … `[0 … n - 1]`, shared by every row of that length. */
function slotsUpTo(n: number): (readonly number[])[] {
  return Array.from({ length: n + 1 }, (_, len) => Array.from({ length: len }, (__, i) => i));
}

/** The list positions `[from, to)` of the devices in rows `[start, end)`; empty as `[0, 0)`. */
export function positionsOf(
  rows: readonly OverviewRow[],
  start: number,
  end: number,
): { from: number; to: number } {
  let from = Infinity;
  let to = 0;
  for (let i = start; i < Math.min(end, rows.length); i++) {
    const row = rows[i];
    if (row.kind !== 'tiles') continue;
    from = Math.min(from, row.start);
    to = Math.max(to, row.start + row.slots.length);
  }
  return from === Infinity ? { from: 0, to: 0 } : { from, to };
}

/** Height of each row (px), for the virtual scroll strategy. */
export function rowHeights(rows: readonly OverviewRow[]): number[] {
  return rows.map((r) => (r.kind === 'heading' ? HEADING_ROW_PX : TILE_ROW_PX));
}
