import { MAX_DISCOVERED_ENTITIES } from './ha-discovery';
import { SourceRouter } from './source-router';
import { loadSources } from './source-spec';

// The router with the homeassistant preset (and zigbee2mqtt's for the overlap case): real
// announcements in, decoded messages and topic changes out. No broker: what is subscribed is
// what the router tells its listener.

const NOW = 1_800_000_000_000;
const z2m = (name: string, ieee: string, metric = 'temperature') => [
  `homeassistant/sensor/${ieee}/${metric}/config`,
  JSON.stringify({
    availability: [
      { topic: 'zigbee2mqtt/bridge/state', value_template: '{{ value_json.state }}' },
      { topic: `zigbee2mqtt/${name}/availability`, value_template: '{{ value_json.state }}' },
    ],
    availability_mode: 'all',
    device: { identifiers: [`zigbee2mqtt_${ieee}`], name },
    state_topic: `zigbee2mqtt/${name}`,
    unique_id: `${ieee}_${metric}_zigbee2mqtt`,
    unit_of_measurement: '°C',
    value_template: `{{ value_json.${metric} }}`,
  }),
];

describe('Home Assistant discovery in the source router', () => {
  let sut: SourceRouter;
  let changes: [string[], string[]][];
  const route = (topic: string, payload: string) => sut.route(topic, payload, NOW);

  beforeEach(() => {
    sut = new SourceRouter(loadSources('homeassistant', undefined));
    changes = [];
    sut.onFilters((added, removed) => changes.push([added, removed]));
  });

  it('subscribes an announced state topic once, and drops it when the last entity naming it goes', () => {
    const [t1, c1] = z2m('Hall', '0x01');
    const [t2, c2] = z2m('Hall', '0x01', 'humidity');
    route(t1, c1);
    route(t2, c2);
    // The bridge state is a configured birth filter already: only the device's own topics.
    expect(changes).toEqual([[['zigbee2mqtt/Hall'], []]]);
    expect(sut.filters()).toContain('zigbee2mqtt/Hall');
    route(t1, '');
    expect(changes).toHaveLength(1);
    route(t2, '');
    expect(changes[1]).toEqual([[], ['zigbee2mqtt/Hall']]);
    expect(sut.discoveryStats()).toMatchObject({ entities: 0, removed: 2 });
  });

  it('merges the units of a device’s entities into its meta and reads them from one message', () => {
    route(...(z2m('Hall', '0x01') as [string, string]));
    const meta = route(...(z2m('Hall', '0x01', 'humidity') as [string, string]));
    expect(meta?.messages).toContainEqual({
      kind: 'meta',
      deviceId: 'zigbee2mqtt_0x01',
      meta: { name: 'Hall', units: { temperature: '°C', humidity: '°C' } },
    });
    const state = route('zigbee2mqtt/Hall', '{"temperature":21.5,"humidity":40,"linkquality":90}');
    expect(state?.messages).toMatchObject([
      {
        kind: 'telemetry',
        deviceId: 'zigbee2mqtt_0x01',
        readings: [{ values: { temperature: 21.5, humidity: 40 } }],
      },
    ]);
  });

  it('is offline when any availability topic says so (availability_mode all), from words said before the announcement too', () => {
    route('zigbee2mqtt/bridge/state', '{"state":"online"}');
    const [t, c] = z2m('Hall', '0x01');
    expect(route(t, c)?.messages).toContainEqual({
      kind: 'status',
      deviceId: 'zigbee2mqtt_0x01',
      status: 'online',
    });
    expect(route('zigbee2mqtt/Hall/availability', '{"state":"offline"}')?.messages).toEqual([
      { kind: 'status', deviceId: 'zigbee2mqtt_0x01', status: 'offline' },
    ]);
    expect(route('zigbee2mqtt/bridge/state', '{"state":"online"}')?.messages).toEqual([
      { kind: 'status', deviceId: 'zigbee2mqtt_0x01', status: 'offline' },
    ]);
  });

  it('tells the broker’s ACL which device a discovered topic speaks for', () => {
    route(...(z2m('Hall', '0x01') as [string, string]));
    route(...(z2m('Desk', '0x02') as [string, string]));
    expect(sut.deviceOf('zigbee2mqtt/Hall')).toBe('zigbee2mqtt_0x01');
    // Shared by every device (zigbee2mqtt's bridge): no one device, open to anonymous devices.
    expect(sut.deviceOf('zigbee2mqtt/bridge/state')).toBeUndefined();
    expect(sut.deviceOf('homeassistant/sensor/0x03/temperature/config')).toBeUndefined();
    expect(sut.deviceOf('zigbee2mqtt/Kitchen')).toBeNull();
  });

  it('refuses new entities at the limit, still updating and removing known ones', () => {
    for (let i = 0; i < MAX_DISCOVERED_ENTITIES; i++)
      route(
        `homeassistant/sensor/n/e${i}/config`,
        JSON.stringify({ stat_t: `n/${i}`, uniq_id: `e${i}` }),
      );
    const over = route(
      'homeassistant/sensor/n/late/config',
      JSON.stringify({ stat_t: 'n/late', uniq_id: 'late' }),
    );
    expect(over?.messages[0]).toMatchObject({ kind: 'rejected' });
    expect(route('n/late', '1')).toBeNull();
    route('homeassistant/sensor/n/e0/config', JSON.stringify({ stat_t: 'n/zero', uniq_id: 'e0' }));
    expect(route('n/zero', '1')?.messages[0]).toMatchObject({ kind: 'telemetry', deviceId: 'e0' });
    route('homeassistant/sensor/n/e1/config', '');
    route(
      'homeassistant/sensor/n/late/config',
      JSON.stringify({ stat_t: 'n/late', uniq_id: 'late' }),
    );
    expect(sut.discoveryStats()).toMatchObject({
      entities: MAX_DISCOVERED_ENTITIES,
      skipped: { limit: 1 },
    });
  });

  it('counts unsupported templates with the first ones listed, and never reads them', () => {
    const tpl = "{% if value == 'on' %}1{% else %}0{% endif %}";
    const routed = route(
      'homeassistant/sensor/n/t/config',
      JSON.stringify({ stat_t: 'n/t', uniq_id: 't', val_tpl: tpl }),
    );
    expect(routed?.messages[0]).toMatchObject({ kind: 'rejected' });
    expect(sut.discoveryStats()).toMatchObject({
      skipped: { template: 1 },
      unsupportedTemplates: [`value_template ${JSON.stringify(tpl)}`],
    });
    expect(route('n/t', 'on')).toBeNull();
  });

  it('leaves a topic another source names a device by to that source, counted, never re-mapped', () => {
    sut = new SourceRouter(loadSources('zigbee2mqtt,homeassistant', undefined));
    const [topic, config] = z2m('Hall', '0x01');
    expect(route(topic, config)?.messages).toEqual([]);
    expect(route('zigbee2mqtt/Hall', '{"temperature":20}')?.messages[0]).toMatchObject({
      deviceId: 'Hall',
    });
    expect(sut.deviceOf('zigbee2mqtt/Hall')).toBe('Hall');
    expect(sut.discoveryStats()).toMatchObject({ entities: 0, skipped: { claimed_topic: 1 } });
  });

  it('keeps an entity whose availability another source reads, reading its state and leaving that topic to the other source', () => {
    for (const [preset, status] of [
      ['esphome', 'gw/status'],
      ['shelly', 'gw/online'],
    ]) {
      sut = new SourceRouter(loadSources(`${preset},homeassistant`, undefined));
      route(
        'homeassistant/sensor/gw/t/config',
        JSON.stringify({
          stat_t: 'gw/data',
          avty: [{ t: status }, { t: 'gw/avail' }],
          dev: { ids: 'gw1' },
          uniq_id: 't',
        }),
      );
      expect(sut.discoveryStats()).toMatchObject({ entities: 1 });
      expect(sut.discoveryStats()?.skipped).toEqual({});
      expect(route('gw/data', '21.5')?.messages[0]).toMatchObject({ deviceId: 'gw1' });
      expect(sut.deviceOf('gw/data')).toBe('gw1');
      // The other source reads its own topic; discovery dropped it from the entity.
      expect(sut.deviceOf(status)).toBe('gw');
      expect(route(status, 'online')?.source).toBe(preset);
      expect(route('gw/avail', 'offline')?.messages).toEqual([
        { kind: 'status', deviceId: 'gw1', status: 'offline' },
      ]);
    }
  });

  it("never maps the contract's topics nor an id with credentials, and an update that would ends the entity", () => {
    sut = new SourceRouter(loadSources('homeassistant', undefined), {
      isReserved: (id) => id === 'owned-1',
    });
    sut.onFilters((added, removed) => changes.push([added, removed]));
    const announce = (stat_t: string, ids: string) =>
      route(
        'homeassistant/sensor/n/e/config',
        JSON.stringify({ stat_t, dev: { ids }, uniq_id: 'e' }),
      );
    // The contract's topics are refused by the decoder already.
    expect(announce('devices/free-1/telemetry', 'decoy')?.messages).toMatchObject([
      { kind: 'rejected', rejections: [{ reason: 'shape' }] },
    ]);
    expect(announce('house/hall', 'owned-1')?.messages).toMatchObject([
      { kind: 'rejected', rejections: [{ reason: 'shape' }] },
    ]);
    expect(sut.deviceOf('house/hall')).toBeNull();
    announce('house/hall', 'free-1');
    expect(sut.deviceOf('house/hall')).toBe('free-1');
    announce('house/hall', 'owned-1');
    expect(sut.deviceOf('house/hall')).toBeNull();
    expect(changes).toEqual([
      [['house/hall'], []],
      [[], ['house/hall']],
    ]);
    expect(sut.discoveryStats()).toMatchObject({
      entities: 0,
      skipped: { invalid: 1, reserved: 2 },
    });
  });

  it('ends every entity of a device id that gets credentials later, its topics dropped', () => {
    const reserved = new Set<string>();
    sut = new SourceRouter(loadSources('homeassistant', undefined), {
      isReserved: (id) => reserved.has(id),
    });
    sut.onFilters((added, removed) => changes.push([added, removed]));
    const announce = (key: string, stat_t: string, ids: string) =>
      route(
        `homeassistant/sensor/n/${key}/config`,
        JSON.stringify({ stat_t, avty_t: `${stat_t}/avail`, dev: { ids }, uniq_id: key }),
      );
    // Announced while `victim` had no credentials (by anyone: announcements are payload-named).
    announce('a', 'house/hall', 'victim');
    announce('b', 'house/desk', 'victim');
    announce('c', 'house/attic', 'other');
    reserved.add('victim');
    expect(sut.endDevice('victim')).toBe(2);
    expect(sut.deviceOf('house/hall')).toBeNull();
    expect(sut.deviceOf('house/desk/avail')).toBeNull();
    expect(sut.deviceOf('house/attic')).toBe('other');
    expect(sut.namesAny('house/hall', () => true)).toBe(false);
    expect(changes.slice(-2)).toEqual([
      [[], ['house/hall', 'house/hall/avail']],
      [[], ['house/desk', 'house/desk/avail']],
    ]);
    expect(sut.discoveryStats()).toMatchObject({ entities: 1, skipped: { reserved: 2 } });
    expect(sut.endDevice('victim')).toBe(0);
  });

  it('names every device of every claim on a topic, for the ACL', () => {
    sut = new SourceRouter(loadSources('homeassistant', undefined));
    route(...(z2m('Hall', '0x01') as [string, string]));
    route(...(z2m('Desk', '0x02') as [string, string]));
    const named = (topic: string) => {
      const ids: string[] = [];
      sut.namesAny(topic, (id) => (ids.push(id), false));
      return ids;
    };
    expect(named('zigbee2mqtt/Hall')).toEqual(['zigbee2mqtt_0x01']);
    expect(named('zigbee2mqtt/bridge/state')).toEqual(['zigbee2mqtt_0x01', 'zigbee2mqtt_0x02']);
    expect(named('zigbee2mqtt/Kitchen')).toEqual([]);
  });
});
