import {
  fleetSorts,
  layoutRows,
  positionsOf,
  rowHeights,
  serverSort,
  tilesPerRow,
  OverviewRow,
  TILE_ROW_PX,
  HEADING_ROW_PX,
} from './fleet-view';

/** A row as a reader sees it: `# name count` for a heading, else the positions of its tiles. */
const shape = (rows: OverviewRow[]) =>
  rows.map((r) =>
    r.kind === 'tiles' ? r.slots.map((s) => r.start + s) : `# ${r.name} ${r.count}`,
  );

describe('the sort menu', () => {
  it('offers a sort per metric the fleet has, after the fixed ones', () => {
    expect(fleetSorts(['temperature', 'humidity']).map((s) => s.value)).toEqual([
      'name',
      'last-seen',
      'severity',
      'metric:humidity',
      'metric:temperature',
    ]);
  });

  it("offers none for the names a group-scoped screen's table leaves blank", () => {
    expect(fleetSorts(['temperature', '', 'humidity']).map((s) => s.value)).toEqual([
      'name',
      'last-seen',
      'severity',
      'metric:humidity',
      'metric:temperature',
    ]);
  });

  it('asks the gateway for each by its name there', () => {
    expect(fleetSorts(['temperature']).map((s) => serverSort(s.value))).toEqual([
      'name',
      'lastSeen',
      'severity',
      'metric:temperature',
    ]);
  });
});

describe('tilesPerRow', () => {
  it('fits as many 262 px tiles with 12 px gaps as the width holds, at least one', () => {
    expect(tilesPerRow(0)).toBe(1);
    expect(tilesPerRow(366)).toBe(1); // a 390 px phone
    expect(tilesPerRow(535)).toBe(1);
    expect(tilesPerRow(536)).toBe(2);
    expect(tilesPerRow(1360)).toBe(5); // 1400 px
    // 1920 px (the page's 1,560 px): five tiles wide enough for "temperature", not six of 250.
    expect(tilesPerRow(1560)).toBe(5);
  });
});

describe('layoutRows', () => {
  it('cuts the list into rows of the given width, the last one short', () => {
    const rows = layoutRows(7, 3, null);
    expect(shape(rows)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
  });

  it('starts each group with a match, in the order given, with a heading and its own rows', () => {
    const rows = layoutRows(8, 3, [
      { name: 'hall-a', count: 2 },
      { name: 'hall-b', count: 5 },
      { name: 'hall-c', count: 0 },
      { name: null, count: 1 },
    ]);
    expect(shape(rows)).toEqual([
      '# hall-a 2',
      [0, 1],
      '# hall-b 5',
      [2, 3, 4],
      [5, 6],
      '# ungrouped 1',
      [7],
    ]);
    expect(rowHeights(rows).slice(0, 3)).toEqual([HEADING_ROW_PX, TILE_ROW_PX, HEADING_ROW_PX]);
  });

  it('costs rows of numbers whatever the fleet: rows of one width share one list of slots', () => {
    const rows = layoutRows(10_000, 6, null);
    expect(rows).toHaveLength(1667);
    const slots = new Set(rows.map((r) => (r.kind === 'tiles' ? r.slots : null)));
    expect(slots.size).toBe(2); // full rows, and the last one of 4
  });

  it('has no rows for no devices', () => {
    expect(layoutRows(0, 4, null)).toEqual([]);
    expect(layoutRows(0, 4, [{ name: 'hall-a', count: 0 }])).toEqual([]);
  });
});

describe('positionsOf', () => {
  it('spans the positions of the tiles in the rows rendered, headings aside', () => {
    const rows = layoutRows(8, 3, [
      { name: 'hall-a', count: 2 },
      { name: 'hall-b', count: 6 },
    ]);
    expect(positionsOf(rows, 0, 1)).toEqual({ from: 0, to: 0 }); // a heading alone
    expect(positionsOf(rows, 0, 3)).toEqual({ from: 0, to: 2 });
    expect(positionsOf(rows, 1, 4)).toEqual({ from: 0, to: 5 });
    expect(positionsOf(rows, 3, 99)).toEqual({ from: 2, to: 8 });
  });
});
