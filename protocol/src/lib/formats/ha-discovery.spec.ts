import {
  decodeHaDiscovery,
  haAvailable,
  HaEntity,
  haStateValue,
  parseValueTemplate,
  TemplateInput,
} from './index';

// Discovery announcements as the firmware publishes them (Tasmota's SetOption19 sensor
// discovery, zigbee2mqtt 1.35 with per-device availability, ESPHome 2024.2, a Shelly Pro 3EM
// discovery script), each with the entity Pulse must map from it and a state message read
// through it.

const entityOf = (topic: string, payload: unknown): HaEntity => {
  const got = decodeHaDiscovery(topic, JSON.stringify(payload));
  if (got?.kind !== 'entity') throw new Error(`no entity: ${JSON.stringify(got)}`);
  return got.entity;
};

describe('Home Assistant discovery announcements from real firmware', () => {
  const cases: {
    name: string;
    topic: string;
    payload: Record<string, unknown>;
    entity: Partial<HaEntity>;
    /** State messages and the number each gives (or the skip reason; null: not in it). */
    states: [string, number | string | null][];
  }[] = [
    {
      name: 'Tasmota AM2301 temperature (abbreviated keys, bracket then dot template)',
      topic: 'homeassistant/sensor/1A2B3C_AM2301_Temperature/config',
      payload: {
        name: 'Tasmota AM2301 Temperature',
        stat_t: 'tele/tasmota_1A2B3C/SENSOR',
        avty_t: 'tele/tasmota_1A2B3C/LWT',
        frc_upd: true,
        pl_avail: 'Online',
        pl_not_avail: 'Offline',
        uniq_id: '1A2B3C_AM2301_Temperature',
        dev: { ids: ['1A2B3C'] },
        unit_of_meas: '°C',
        dev_cla: 'temperature',
        val_tpl: "{{value_json['AM2301'].Temperature}}",
      },
      entity: {
        component: 'sensor',
        deviceId: '1A2B3C',
        deviceName: 'Tasmota AM2301 Temperature',
        metric: 'AM2301.Temperature',
        stateTopic: 'tele/tasmota_1A2B3C/SENSOR',
        unit: '°C',
        deviceClass: 'temperature',
        availabilityMode: 'latest',
      },
      states: [
        ['{"Time":"2024-03-10T14:22:05","AM2301":{"Temperature":21.4,"Humidity":46.3}}', 21.4],
        ['{"Time":"2024-03-10T14:22:05","ENERGY":{"Power":45}}', null],
      ],
    },
    {
      name: 'Tasmota leak switch with a ~ base topic',
      topic: 'homeassistant/binary_sensor/18A6B3_SNS_1/config',
      payload: {
        name: 'WaterMeterLeak',
        stat_t: '~stat/Moisture',
        avty_t: '~tele/LWT',
        pl_avail: 'Online',
        pl_not_avail: 'Offline',
        uniq_id: '18A6B3_SNS_1',
        device: { identifiers: ['18A6B3'] },
        '~': 'tasmota_18A6B3/',
        val_tpl: '{{value_json.Leak}}',
        pl_off: 'OFF',
        pl_on: 'ON',
        dev_cla: 'moisture',
      },
      entity: {
        component: 'binary_sensor',
        deviceId: '18A6B3',
        metric: 'Leak',
        stateTopic: 'tasmota_18A6B3/stat/Moisture',
        payloadOn: 'ON',
        payloadOff: 'OFF',
      },
      states: [
        ['{"Leak":"ON"}', 1],
        ['{"Leak":"OFF"}', 0],
        ['{"Leak":"maybe"}', 'string'],
      ],
    },
    {
      name: 'zigbee2mqtt climate sensor temperature',
      topic: 'homeassistant/sensor/0x00158d0001a2b3c4/temperature/config',
      payload: {
        availability: [
          { topic: 'zigbee2mqtt/bridge/state', value_template: '{{ value_json.state }}' },
          {
            topic: 'zigbee2mqtt/Living room climate/availability',
            value_template: '{{ value_json.state }}',
          },
        ],
        availability_mode: 'all',
        device: {
          identifiers: ['zigbee2mqtt_0x00158d0001a2b3c4'],
          manufacturer: 'Aqara',
          model: 'Temperature and humidity sensor (WSDCGQ11LM)',
          name: 'Living room climate',
          via_device: 'zigbee2mqtt_bridge_0x00124b0022d2d2d2',
        },
        device_class: 'temperature',
        enabled_by_default: true,
        object_id: 'living_room_climate_temperature',
        origin: { name: 'Zigbee2MQTT', sw: '1.35.1', url: 'https://www.zigbee2mqtt.io' },
        state_class: 'measurement',
        state_topic: 'zigbee2mqtt/Living room climate',
        unique_id: '0x00158d0001a2b3c4_temperature_zigbee2mqtt',
        unit_of_measurement: '°C',
        value_template: '{{ value_json.temperature }}',
      },
      entity: {
        deviceId: 'zigbee2mqtt_0x00158d0001a2b3c4',
        deviceName: 'Living room climate',
        metric: 'temperature',
        stateTopic: 'zigbee2mqtt/Living room climate',
        unit: '°C',
        availabilityMode: 'all',
      },
      states: [
        [
          '{"battery":97,"humidity":48.2,"last_seen":"2024-03-10T14:22:05.123Z","linkquality":120,"temperature":21.52,"voltage":2995}',
          21.52,
        ],
        ['{"linkquality":120}', null],
      ],
    },
    {
      name: 'zigbee2mqtt occupancy (payload_on true)',
      topic: 'homeassistant/binary_sensor/0x001788010b2c3d4e/occupancy/config',
      payload: {
        availability: [
          { topic: 'zigbee2mqtt/bridge/state', value_template: '{{ value_json.state }}' },
        ],
        device: { identifiers: ['zigbee2mqtt_0x001788010b2c3d4e'], name: 'Hall motion' },
        device_class: 'occupancy',
        object_id: 'hall_motion_occupancy',
        payload_off: false,
        payload_on: true,
        state_topic: 'zigbee2mqtt/Hall motion',
        unique_id: '0x001788010b2c3d4e_occupancy_zigbee2mqtt',
        value_template: '{{ value_json.occupancy }}',
      },
      entity: {
        component: 'binary_sensor',
        metric: 'occupancy',
        payloadOn: 'true',
        payloadOff: 'false',
      },
      states: [
        ['{"battery":100,"illuminance_lux":12,"occupancy":true}', 1],
        ['{"battery":100,"occupancy":false}', 0],
      ],
    },
    {
      name: 'zigbee2mqtt door contact (payload_on false: open is no contact)',
      topic: 'homeassistant/binary_sensor/0x00158d000a1b2c3d/contact/config',
      payload: {
        device: { identifiers: ['zigbee2mqtt_0x00158d000a1b2c3d'], name: 'Front door' },
        device_class: 'door',
        payload_off: true,
        payload_on: false,
        state_topic: 'zigbee2mqtt/Front door',
        unique_id: '0x00158d000a1b2c3d_contact_zigbee2mqtt',
        value_template: '{{ value_json.contact }}',
      },
      entity: { metric: 'contact' },
      states: [
        ['{"contact":false}', 1],
        ['{"contact":true}', 0],
      ],
    },
    {
      name: 'ESPHome sensor (node id in the topic, dev.ids a string, no template)',
      topic: 'homeassistant/sensor/livingroom/temperature/config',
      payload: {
        dev_cla: 'temperature',
        unit_of_meas: '°C',
        stat_cla: 'measurement',
        name: 'Temperature',
        stat_t: 'livingroom/sensor/temperature/state',
        avty_t: 'livingroom/status',
        uniq_id: 'ESPsensortemperature',
        dev: {
          ids: 'a4cf12b3c4d5',
          name: 'livingroom',
          sw: 'esphome v2024.2.0 Feb 21 2024, 10:12:44',
          mdl: 'esp32dev',
          mf: 'espressif',
        },
      },
      entity: {
        deviceId: 'a4cf12b3c4d5',
        deviceName: 'livingroom',
        metric: 'temperature',
        stateTopic: 'livingroom/sensor/temperature/state',
        unit: '°C',
      },
      states: [
        ['21.5', 21.5],
        ['nan', 'string'],
      ],
    },
    {
      name: 'ESPHome binary sensor (default ON/OFF)',
      topic: 'homeassistant/binary_sensor/livingroom/window/config',
      payload: {
        dev_cla: 'window',
        name: 'Window',
        stat_t: 'livingroom/binary_sensor/window/state',
        avty_t: 'livingroom/status',
        uniq_id: 'ESPbinary_sensorwindow',
        dev: { ids: 'a4cf12b3c4d5', name: 'livingroom' },
      },
      entity: { component: 'binary_sensor', metric: 'window', payloadOn: 'ON', payloadOff: 'OFF' },
      states: [
        ['ON', 1],
        ['OFF', 0],
      ],
    },
    {
      name: 'Shelly Pro 3EM discovery script (pl_avail "true" on <id>/online)',
      topic: 'homeassistant/sensor/shellypro3em-test-import/config',
      payload: {
        name: 'Test meter Saldierend Import',
        uniq_id: 'shellypro3em-test_sald_import',
        stat_t: 'shellypro3em-test/energy_counter/consumed',
        unit_of_meas: 'kWh',
        dev_cla: 'energy',
        stat_cla: 'total_increasing',
        avty_t: 'shellypro3em-test/online',
        pl_avail: 'true',
        pl_not_avail: 'false',
        dev: {
          ids: ['shellypro3em-test'],
          name: 'Test meter',
          mf: 'Shelly',
          mdl: 'Shelly Pro 3EM',
          sw: 'Saldierung v1.2.0',
        },
      },
      entity: {
        deviceId: 'shellypro3em-test',
        deviceName: 'Test meter',
        metric: 'shellypro3em-test-import',
        unit: 'kWh',
        availability: [
          {
            topic: 'shellypro3em-test/online',
            available: 'true',
            notAvailable: 'false',
            template: { path: null, filters: [] },
          },
        ],
      },
      states: [['1234.567', 1234.567]],
    },
  ];

  it.each(cases)('$name', ({ topic, payload, entity, states }) => {
    const got = entityOf(topic, payload);
    expect(got).toMatchObject(entity);
    for (const [state, want] of states)
      expect(haStateValue(got, new TemplateInput(state))).toEqual(
        typeof want === 'string' ? { skip: want } : want,
      );
  });

  it('reads availability words per entry, zigbee2mqtt’s JSON state through its template', () => {
    const z2m = entityOf(cases[2].topic, cases[2].payload);
    expect(z2m.availability.map((a) => a.topic)).toEqual([
      'zigbee2mqtt/bridge/state',
      'zigbee2mqtt/Living room climate/availability',
    ]);
    expect(haAvailable(z2m.availability[0], new TemplateInput('{"state":"online"}'))).toBe(
      'online',
    );
    expect(haAvailable(z2m.availability[0], new TemplateInput('{"state":"offline"}'))).toBe(
      'offline',
    );
    const tasmota = entityOf(cases[0].topic, cases[0].payload);
    expect(haAvailable(tasmota.availability[0], new TemplateInput('Offline'))).toBe('offline');
    expect(haAvailable(tasmota.availability[0], new TemplateInput('offline'))).toBeNull();
  });

  it('removes the entity on an empty retained payload', () => {
    expect(decodeHaDiscovery('homeassistant/sensor/livingroom/temperature/config', '')).toEqual({
      kind: 'removed',
      key: 'sensor/livingroom/temperature',
    });
  });

  it.each([
    [
      'a switch (not read)',
      'homeassistant/switch/459293_RL_1/config',
      { stat_t: 'x/y' },
      'component',
    ],
    [
      'a template with logic',
      'homeassistant/sensor/x/config',
      { stat_t: 'x/y', uniq_id: 'x', val_tpl: "{% if value == 'on' %}1{% endif %}" },
      'template',
    ],
    [
      'arithmetic in a template',
      'homeassistant/sensor/x/config',
      { stat_t: 'x/y', uniq_id: 'x', val_tpl: '{{ value | float / 10 }}' },
      'template',
    ],
    [
      'a wildcard state topic',
      'homeassistant/sensor/x/config',
      { stat_t: 'x/+', uniq_id: 'x' },
      'invalid',
    ],
    [
      'the contract’s own topic',
      'homeassistant/sensor/x/config',
      { stat_t: 'devices/boiler/telemetry', uniq_id: 'x' },
      'invalid',
    ],
    ['no device id', 'homeassistant/sensor/x/config', { stat_t: 'x/y' }, 'invalid'],
    ['no state topic', 'homeassistant/sensor/x/config', { uniq_id: 'x' }, 'invalid'],
  ])('skips %s, with why', (_name, topic, payload, reason) => {
    expect(decodeHaDiscovery(topic, JSON.stringify(payload))).toMatchObject({
      kind: 'skipped',
      reason,
    });
  });

  it('skips what is not JSON and ignores topics that are not discovery topics', () => {
    expect(decodeHaDiscovery('homeassistant/sensor/x/config', '{')).toMatchObject({
      kind: 'skipped',
      reason: 'invalid',
    });
    expect(decodeHaDiscovery('homeassistant/sensor/x/state', '{}')).toBeNull();
  });
});

describe('value templates, read as data', () => {
  it.each([
    ['{{ value }}', '21.5', 21.5],
    ['{{ value | float }}', '21.5', 21.5],
    ['{{ value | int }}', '21.7', 21],
    ['{{ value | float(0) | round(1) }}', '21.46', 21.5],
    ['{{ value_json.temperature }}', '{"temperature": 19.25}', 19.25],
    ["{{ value_json['ENERGY']['Power'] }}", '{"ENERGY":{"Power":45}}', 45],
    ['{{ value_json["ENERGY"].Total | round(2) }}', '{"ENERGY":{"Total":12.3456}}', 12.35],
    ['{{ value_json.a.b }}', '{"a":{"b":"7.5"}}', 7.5],
    ['{{value_json.list[1]}}', '{"list":[1,2]}', 2],
    ['{{ value_json.on }}', '{"on":true}', 1],
    ['{{ value | round }}', '2.6', 3],
  ])('%s on %s gives %d', (template, payload, want) => {
    const parsed = parseValueTemplate(template);
    expect(parsed).not.toBeNull();
    const entity = entityOf('homeassistant/sensor/x/config', {
      stat_t: 'x/y',
      uniq_id: 'x',
      val_tpl: template,
    });
    expect(haStateValue(entity, new TemplateInput(payload))).toBe(want);
  });

  it.each([
    '{{ value_json.x if value_json.x is defined else 0 }}',
    '{{ value_json.x | multiply(10) }}',
    '{{ (value | float) * 10 }}',
    '{{ states("sensor.x") }}',
    '{{ value_json.x }} W',
    '{{ value_json.x | round(1) }}{{ value }}',
  ])('does not read %s', (template) => {
    expect(parseValueTemplate(template)).toBeNull();
  });
});
