import {
  decodeFleetSummary,
  decodeSummaryEvent,
  DeviceSummary,
  encodeFleetSummary,
  encodeSummaryEvent,
  FleetSummary,
  SUMMARY_WIRE_VERSION,
  WD,
} from '../index';

const AT = Date.UTC(2026, 11, 2, 5, 0, 0);
const METRICS = ['temperature', 'humidity', 'power', 'voltage'];

const fleet: DeviceSummary[] = [
  ['sim-00021', 'Env sensor 00021 · Lab', 'lab', 'online', 120, [19.94, 54.8]],
  ['sim-00011', 'Env sensor 00011 · Hall A', 'hall-a', 'offline', 60_000, [17.34, 55.5]],
  ['sim-00041', 'Power meter 00041 · Lab', 'lab', 'online', 0, [null, null, 1930.7, 228]],
  ['boiler', null, null, 'unknown', null, []],
  ['pump-7', 'Pump 7', 'hall-a', 'online', 5, [null, 3], ['critical', 2]],
];

/** What a client receives: the JSON text of the message, parsed. */
const overTheWire = <T>(x: T): unknown => JSON.parse(JSON.stringify(x));
const sorted = (devices: DeviceSummary[]) => devices.slice().sort((a, b) => (a[0] < b[0] ? -1 : 1));

describe('the fleet summary on the wire (version 2)', () => {
  it('reads back to the same summary, nothing lost (devices in name order)', () => {
    const summary: FleetSummary = { at: AT, metrics: METRICS, devices: fleet };
    const decoded = decodeFleetSummary(overTheWire(encodeFleetSummary(summary)));
    expect(decoded).toEqual({ at: AT, metrics: METRICS, devices: expect.any(Array) });
    expect(sorted(decoded?.devices ?? [])).toEqual(sorted(fleet));
    expect(decoded?.devices.map((d) => d[1] ?? d[0])).toEqual([
      'Env sensor 00011 · Hall A',
      'Env sensor 00021 · Lab',
      'Power meter 00041 · Lab',
      'Pump 7',
      'boiler',
    ]);
  });

  it('writes statuses and severities as codes, groups and metric sets once, names front-coded', () => {
    const wire = encodeFleetSummary({ at: AT, metrics: METRICS, devices: fleet });
    expect(wire.v).toBe(SUMMARY_WIRE_VERSION);
    expect(wire.groups).toEqual(['hall-a', 'lab']);
    expect(wire.layouts).toEqual([[0, 1], [2, 3], [1], []]);
    // The second sensor keeps "Env sensor 000" and "sim-000" of the first.
    expect(wire.devices[1]).toEqual([7, '21', 14, '21 · Lab', 1, 1, 120, 0, [19.94, 54.8]]);
    const pump = wire.devices[3];
    expect(pump[WD.values]).toEqual([3]);
    expect(pump[WD.alert]).toEqual([0, 2]);
    // A device without a name or group: no name, group -1; the next name is read against "Pump 7".
    expect(wire.devices[4].slice(0, 6)).toEqual([0, 'boiler', 0, null, -1, 2]);
  });

  it('is a third smaller than the readable tuples for a simulator-like fleet', () => {
    const kinds = ['Env sensor', 'Power meter', 'Machine'];
    const devices: DeviceSummary[] = Array.from({ length: 1000 }, (_, i) => {
      const n = String(i + 1).padStart(5, '0');
      const kind = i % 3;
      const values = kind === 1 ? [null, null, 1900 + i / 7, 230] : [20 + i / 1000, 41.5];
      return [
        `sim-${n}`,
        `${kinds[kind]} ${n} · Hall ${'AB'[i % 2]}`,
        `hall-${'ab'[i % 2]}`,
        'online',
        i,
        values,
      ];
    });
    const readable = JSON.stringify({ at: AT, metrics: METRICS, devices });
    const wire = JSON.stringify(encodeFleetSummary({ at: AT, metrics: METRICS, devices }));
    expect(wire.length).toBeLessThan(readable.length * 0.67);
  });

  it('carries a delta the same way, its metric table only when it grew', () => {
    const event = { at: AT, changed: fleet.slice(0, 2), removed: ['gone-1'] };
    const wire = encodeSummaryEvent(event);
    expect(wire).not.toHaveProperty('metrics');
    const decoded = decodeSummaryEvent(overTheWire(wire));
    expect(decoded?.removed).toEqual(['gone-1']);
    expect(sorted(decoded?.changed ?? [])).toEqual(sorted(event.changed));
    const grown = decodeSummaryEvent(overTheWire(encodeSummaryEvent({ ...event, metrics: ['t'] })));
    expect(grown?.metrics).toEqual(['t']);
  });

  it.each<[string, unknown]>([
    ['nothing', undefined],
    ['version 1 (readable tuples)', { at: AT, metrics: [], devices: fleet }],
    ['another version', { v: 3, at: AT, metrics: [], groups: [], layouts: [], devices: [] }],
    ['no time', { v: 2, metrics: [], groups: [], layouts: [], devices: [] }],
    [
      'a metric index out of bounds',
      { v: 2, at: AT, metrics: [], groups: [], layouts: [[1e9]], devices: [] },
    ],
    ['devices not a list', { v: 2, at: AT, metrics: [], groups: [], layouts: [], devices: {} }],
  ])('refuses a snapshot that is %s', (_what, wire) => {
    expect(decodeFleetSummary(wire)).toBeNull();
  });

  it('skips an entry that does not read and reads the next against the last good one', () => {
    const wire = overTheWire(
      encodeFleetSummary({ at: AT, metrics: METRICS, devices: fleet.slice(0, 2) }),
    ) as { devices: unknown[] };
    wire.devices.splice(1, 0, [99, 'x', 0, null, 0, 0, 0, 0, []], 'junk', [0, '', 0, null]);
    expect(decodeFleetSummary(wire)?.devices.map((d) => d[0])).toEqual(['sim-00011', 'sim-00021']);
  });
});
