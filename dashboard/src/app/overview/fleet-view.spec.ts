import {
  chunkRows,
  fleetSorts,
  queryFleet,
  rowHeights,
  tilesPerRow,
  TILE_ROW_PX,
  HEADING_ROW_PX,
} from './fleet-view';

const device = (
  deviceId: string,
  name: string,
  group: string | null,
  lastHeard: number | null,
) => ({
  deviceId,
  name,
  group,
  lastHeard,
});

const fleet = [
  device('p-1', 'Pump', 'hall-b', 3000),
  device('b-1', 'Boiler', 'hall-a', 1000),
  device('f-1', 'Fan', 'hall-a', null),
  device('x-9', 'Boiler', null, 2000),
];
const ids = (list: { deviceId: string }[]) => list.map((d) => d.deviceId);
const noAlerts = () => null;

describe('queryFleet', () => {
  it('sorts by name by default, the id breaking a tie', () => {
    expect(ids(queryFleet(fleet, { text: '', group: '', sort: 'name' }, noAlerts))).toEqual([
      'b-1',
      'x-9',
      'f-1',
      'p-1',
    ]);
  });

  it('puts the most recently heard first, never-heard devices last', () => {
    expect(ids(queryFleet(fleet, { text: '', group: '', sort: 'last-seen' }, noAlerts))).toEqual([
      'p-1',
      'x-9',
      'b-1',
      'f-1',
    ]);
  });

  it('puts alerting devices first, most severe first, then the rest by name', () => {
    const ranks: Record<string, number> = { 'p-1': 2, 'f-1': 0 };
    const sorted = queryFleet(
      fleet,
      { text: '', group: '', sort: 'severity' },
      (id) => ranks[id] ?? null,
    );
    expect(ids(sorted)).toEqual(['f-1', 'p-1', 'b-1', 'x-9']);
  });

  it('searches name, id and group, case-insensitively, within the chosen group', () => {
    expect(ids(queryFleet(fleet, { text: ' BOIL ', group: '', sort: 'name' }, noAlerts))).toEqual([
      'b-1',
      'x-9',
    ]);
    expect(ids(queryFleet(fleet, { text: 'x-9', group: '', sort: 'name' }, noAlerts))).toEqual([
      'x-9',
    ]);
    expect(
      ids(queryFleet(fleet, { text: 'hall', group: 'hall-a', sort: 'name' }, noAlerts)),
    ).toEqual(['b-1', 'f-1']);
  });

  it('sorts by a metric’s latest value, highest first, devices without it last', () => {
    const withValues = [
      { ...device('a', 'A', null, null), latest: { temperature: 20 } },
      { ...device('b', 'B', null, null), latest: { power: 5 } },
      { ...device('c', 'C', null, null), latest: { temperature: 85.5 } },
      { ...device('d', 'D', null, null), latest: { temperature: -3 } },
    ];
    const sorted = queryFleet(
      withValues,
      { text: '', group: '', sort: 'metric:temperature' },
      noAlerts,
    );
    expect(ids(sorted)).toEqual(['c', 'a', 'd', 'b']);
  });

  it('offers a sort per metric the fleet has, after the fixed ones', () => {
    expect(fleetSorts(['temperature', 'humidity']).map((s) => s.value)).toEqual([
      'name',
      'last-seen',
      'severity',
      'metric:humidity',
      'metric:temperature',
    ]);
  });

  it('leaves the store’s array alone', () => {
    const before = ids(fleet);
    queryFleet(fleet, { text: '', group: '', sort: 'name' }, noAlerts);
    expect(ids(fleet)).toEqual(before);
  });
});

describe('tilesPerRow', () => {
  it('fits as many 240 px tiles with 12 px gaps as the width holds, at least one', () => {
    expect(tilesPerRow(0)).toBe(1);
    expect(tilesPerRow(366)).toBe(1); // a 390 px phone
    expect(tilesPerRow(491)).toBe(1);
    expect(tilesPerRow(492)).toBe(2);
    expect(tilesPerRow(1360)).toBe(5);
  });
});

describe('chunkRows', () => {
  const many = Array.from({ length: 7 }, (_, i) =>
    device(`d-${i}`, `D${i}`, i < 5 ? 'hall-b' : 'hall-a', null),
  );

  it('cuts the fleet into rows of the given width, the last one short', () => {
    const rows = chunkRows(many, 3, false);
    expect(rows.map((r) => (r.kind === 'tiles' ? ids(r.devices) : r.name))).toEqual([
      ['d-0', 'd-1', 'd-2'],
      ['d-3', 'd-4', 'd-5'],
      ['d-6'],
    ]);
    expect(new Set(rows.map((r) => r.key)).size).toBe(rows.length);
  });

  it('starts each group, in name order, with a heading and its own rows', () => {
    const rows = chunkRows([...many, device('u', 'U', null, null)], 3, true);
    expect(
      rows.map((r) => (r.kind === 'tiles' ? ids(r.devices) : `# ${r.name} ${r.count}`)),
    ).toEqual([
      '# hall-a 2',
      ['d-5', 'd-6'],
      '# hall-b 5',
      ['d-0', 'd-1', 'd-2'],
      ['d-3', 'd-4'],
      '# ungrouped 1',
      ['u'],
    ]);
    expect(rowHeights(rows).slice(0, 3)).toEqual([HEADING_ROW_PX, TILE_ROW_PX, HEADING_ROW_PX]);
  });

  it('has no rows for no devices', () => {
    expect(chunkRows([], 4, true)).toEqual([]);
  });
});
