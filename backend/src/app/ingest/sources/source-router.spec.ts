import { nameToId } from '@pulse/protocol';
import { SourceRouter } from './source-router';
import { loadSources, SourceSpecSchema } from './source-spec';

// The router with the zigbee2mqtt preset: topics as zigbee2mqtt publishes them, for devices
// whatever their friendly names, decoded messages out. No broker: what the broker guard would
// be told is what deviceOf says.

const NOW = 1_800_000_000_000;

describe('zigbee2mqtt friendly names in the source router', () => {
  let sut: SourceRouter;
  const route = (topic: string, payload: string) => sut.route(topic, payload, NOW);

  beforeEach(() => (sut = new SourceRouter(loadSources('zigbee2mqtt', undefined))));

  it.each([
    ['a name with spaces', 'Hall Sensor'],
    ['a name with a slash (a zigbee2mqtt group path)', 'Kitchen/Plug 1'],
    ['a name with an accent', 'Büro Thermostat'],
    ['a name of no ASCII at all', '温度计'],
    ['a name that is an id already', '0x00158d0001a2b3c4'],
  ])('reads %s as a device with a stable id, the name its display name', (_, name) => {
    const id = nameToId(name) as string;
    expect(id).toMatch(/^[A-Za-z0-9_.-]{1,64}$/);
    const routed = route(`zigbee2mqtt/${name}`, '{"temperature":21.5}');
    expect(routed?.messages).toEqual([
      {
        kind: 'telemetry',
        deviceId: id,
        readings: [{ deviceId: id, ts: NOW, values: { temperature: 21.5 } }],
        rejections: [],
      },
    ]);
    expect(routed?.meta.get(id)).toEqual({ name, units: { temperature: '°C' } });
    expect(sut.deviceOf(`zigbee2mqtt/${name}`)).toBe(id);
    expect(route(`zigbee2mqtt/${name}/availability`, '{"state":"offline"}')?.messages).toEqual([
      { kind: 'status', deviceId: id, status: 'offline' },
    ]);
    expect(sut.deviceOf(`zigbee2mqtt/${name}/availability`)).toBe(id);
  });

  it('keeps two names apart that read alike', () => {
    const a = route('zigbee2mqtt/Hall Sensor', '{"temperature":1}')?.messages[0];
    const b = route('zigbee2mqtt/Hall_Sensor', '{"temperature":2}')?.messages[0];
    expect(a?.deviceId).not.toBe(b?.deviceId);
    expect(b?.deviceId).toBe('Hall_Sensor');
  });

  it.each([
    'zigbee2mqtt/bridge/state',
    'zigbee2mqtt/bridge/devices',
    'zigbee2mqtt/bridge/response/device/rename',
    'zigbee2mqtt/Kitchen/Plug 1/set',
    'zigbee2mqtt/Plug/set/state',
    'zigbee2mqtt/Plug/get',
    'zigbee2mqtt/Button/action',
  ])('sets zigbee2mqtt’s own topic %s aside: no device, no rejection', (topic) => {
    const routed = route(topic, '{"state":"ON"}');
    expect(routed).toMatchObject({ source: 'zigbee2mqtt', messages: [], ignored: true });
    // The broker takes it from the bridge's (anonymous or service) connection, not a device's.
    expect(sut.deviceOf(topic)).toBeUndefined();
  });

  it('answers the broker guard in one pass which device a topic is and whether it names one', () => {
    // Every kind of topic the guard meets: a device's, its availability, the bridge's own, another
    // firmware's, one nothing reads. (deviceOf is claimsOn's device, so the values are pinned;
    // namesAny is worked out apart, so the two are compared too.)
    sut = new SourceRouter(loadSources('zigbee2mqtt,tasmota', undefined));
    const named = (id: string) => id === nameToId('Hall Sensor') || id === 'desk';
    const expected: [string, string | null | undefined, boolean][] = [
      ['zigbee2mqtt/Hall Sensor', nameToId('Hall Sensor'), true],
      ['zigbee2mqtt/Hall Sensor/availability', nameToId('Hall Sensor'), true],
      ['zigbee2mqtt/Porch Light', nameToId('Porch Light'), false],
      ['zigbee2mqtt/bridge/state', undefined, false],
      ['tele/desk/SENSOR', 'desk', true],
      ['tele/desk/INFO1', null, false],
      ['somewhere/else', null, false],
    ];
    for (const [topic, device, namesAny] of expected) {
      expect({ topic, ...sut.claimsOn(topic, named) }).toStrictEqual({ topic, device, namesAny });
      expect(sut.namesAny(topic, named)).toBe(namesAny);
    }
  });

  it('subscribes the whole base topic, since a name may span levels', () => {
    expect(sut.filters()).toEqual(['zigbee2mqtt/#']);
  });
});

describe('zigbee2mqtt under another base topic (a sources file)', () => {
  const source = (topic: string) => ({
    name: 'house',
    topic,
    device: { friendlyName: true },
    format: 'zigbee2mqtt',
  });

  it('reads friendly names under the base topic its filter names', () => {
    const sut = new SourceRouter([SourceSpecSchema.parse(source('house/zigbee/#'))]);
    const id = nameToId('Kitchen/Plug 1');
    expect(sut.route('house/zigbee/Kitchen/Plug 1', '{"power":5}', NOW)?.messages[0]).toMatchObject(
      { kind: 'telemetry', deviceId: id },
    );
    expect(sut.route('house/zigbee/bridge/state', 'online', NOW)?.ignored).toBe(true);
  });

  it('refuses a filter that does not end in /#: the name spans the levels # matches', () => {
    const parsed = SourceSpecSchema.safeParse(source('house/zigbee/+'));
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({ path: ['device'] });
  });
});

describe('a source that names devices in the payload (influx lines)', () => {
  const sut = new SourceRouter(
    [
      SourceSpecSchema.parse({
        name: 'boilers',
        topic: 'factory/+/influx',
        device: { payload: true },
        format: 'influx',
      }),
    ],
    { isReserved: (id) => id === 'Hall_Sensor' },
  );

  it('never speaks for an id with its own credentials; the other lines of the message are read', () => {
    const routed = sut.route(
      'factory/line1/influx',
      'boiler,device=Hall_Sensor t=99\nboiler,device=Boiler_1 t=61',
      NOW,
    );
    expect(routed?.messages).toEqual([
      {
        kind: 'rejected',
        deviceId: 'Hall_Sensor',
        rejections: [
          {
            reason: 'shape',
            detail:
              'boilers: "Hall_Sensor" has its own credentials; a source that names devices in the payload may not speak for it',
          },
        ],
      },
      {
        kind: 'telemetry',
        deviceId: 'Boiler_1',
        readings: [{ deviceId: 'Boiler_1', ts: NOW, values: { 'boiler.t': 61 } }],
        rejections: [],
      },
    ]);
  });
});
