import { decodeInflux, decodeJson, decodeSenml, decodeShellyRpc, decodeValue, toId } from './index';

// Payloads as real firmware publishes them (captured from Tasmota 13, zigbee2mqtt 1.35,
// Shelly Plus 1PM 1.2, ESPHome 2024.2; the SenML ones are RFC 8428's own examples), each with
// what Pulse must read from it and what it must report as skipped.

const NOW = 1_710_080_600_000;

describe('json (generic, nested, switches)', () => {
  const cases: {
    name: string;
    payload: string;
    options?: Parameters<typeof decodeJson>[1];
    values: Record<string, number>;
    ts?: number;
    skipped: string[];
  }[] = [
    {
      name: 'Tasmota SENSOR with an energy meter',
      payload:
        '{"Time":"2024-03-10T14:22:05","ENERGY":{"TotalStartTime":"2023-11-02T10:12:41","Total":12.345,"Yesterday":0.512,"Today":0.203,"Period":2,"Power":45,"ApparentPower":52,"ReactivePower":26,"Factor":0.87,"Voltage":231,"Current":0.225}}',
      values: {
        'ENERGY.Total': 12.345,
        'ENERGY.Yesterday': 0.512,
        'ENERGY.Today': 0.203,
        'ENERGY.Period': 2,
        'ENERGY.Power': 45,
        'ENERGY.ApparentPower': 52,
        'ENERGY.ReactivePower': 26,
        'ENERGY.Factor': 0.87,
        'ENERGY.Voltage': 231,
        'ENERGY.Current': 0.225,
      },
      skipped: ['Time', 'ENERGY.TotalStartTime'],
    },
    {
      name: 'Tasmota SENSOR with an AM2301, its local time refused as a timestamp (no zone)',
      payload:
        '{"Time":"2024-03-10T14:22:05","AM2301":{"Temperature":21.4,"Humidity":46.3,"DewPoint":9.4},"TempUnit":"C"}',
      options: { timestampField: 'Time', timestampFormat: 'iso' },
      values: { 'AM2301.Temperature': 21.4, 'AM2301.Humidity': 46.3, 'AM2301.DewPoint': 9.4 },
      skipped: ['Time', 'TempUnit'],
    },
    {
      name: 'zigbee2mqtt climate sensor with last_seen, occupancy and an update block',
      payload:
        '{"battery":97,"humidity":48.53,"last_seen":"2024-03-10T14:22:05.123Z","linkquality":134,"power_outage_count":12,"pressure":1012.4,"temperature":21.87,"voltage":3005,"occupancy":true,"device_temperature":25,"update":{"state":"idle","installed_version":-1,"latest_version":-1},"update_available":null}',
      options: { timestampField: 'last_seen', timestampFormat: 'iso' },
      ts: Date.parse('2024-03-10T14:22:05.123Z'),
      values: {
        battery: 97,
        humidity: 48.53,
        linkquality: 134,
        power_outage_count: 12,
        pressure: 1012.4,
        temperature: 21.87,
        voltage: 3005,
        occupancy: 1,
        device_temperature: 25,
        'update.installed_version': -1,
        'update.latest_version': -1,
      },
      skipped: ['update.state', 'update_available'],
    },
    {
      name: 'zigbee2mqtt plug: state ON, a list and a text',
      payload:
        '{"state":"ON","power":12.5,"energy":3.21,"child_lock":"UNLOCK","effects":["blink","breathe"],"power_on_behavior":"previous"}',
      values: { state: 1, power: 12.5, energy: 3.21 },
      skipped: ['child_lock', 'effects', 'power_on_behavior'],
    },
    {
      name: 'Tasmota SENSOR of a two-channel meter (ADE7953): one metric per channel, numbered from 1',
      payload:
        '{"Time":"2024-03-10T14:22:05","ENERGY":{"TotalStartTime":"2023-11-02T10:12:41","Total":[12.3,4.5],"Yesterday":0.5,"Today":0.2,"Period":[0,1],"Power":[10,20],"ApparentPower":[11,22],"ReactivePower":[1,2],"Factor":[0.91,0.9],"Voltage":[230,231],"Current":[0.05,0.09]}}',
      values: {
        'ENERGY.Total.1': 12.3,
        'ENERGY.Total.2': 4.5,
        'ENERGY.Yesterday': 0.5,
        'ENERGY.Today': 0.2,
        'ENERGY.Period.1': 0,
        'ENERGY.Period.2': 1,
        'ENERGY.Power.1': 10,
        'ENERGY.Power.2': 20,
        'ENERGY.ApparentPower.1': 11,
        'ENERGY.ApparentPower.2': 22,
        'ENERGY.ReactivePower.1': 1,
        'ENERGY.ReactivePower.2': 2,
        'ENERGY.Factor.1': 0.91,
        'ENERGY.Factor.2': 0.9,
        'ENERGY.Voltage.1': 230,
        'ENERGY.Voltage.2': 231,
        'ENERGY.Current.1': 0.05,
        'ENERGY.Current.2': 0.09,
      },
      skipped: ['Time', 'ENERGY.TotalStartTime'],
    },
    {
      name: 'lists that are not channels of numbers: too long, mixed, nested or empty',
      payload: `{"ok":[1,true],"long":${JSON.stringify(Array.from({ length: 9 }, (_, i) => i))},"mixed":[1,"a"],"nested":[[1]],"empty":[],"holes":[1,null]}`,
      values: { 'ok.1': 1, 'ok.2': 1 },
      skipped: ['long', 'mixed', 'nested', 'empty', 'holes'],
    },
    {
      name: 'ESPHome JSON state with a key that is not an id',
      payload: '{"state":"ON","color temp":370,"brightness":255}',
      values: { state: 1, color_temp: 370, brightness: 255 },
      skipped: [],
    },
    {
      name: 'epoch seconds as the timestamp',
      payload: '{"t":1710080525.5,"v":3}',
      options: { timestampField: 't', timestampFormat: 's' },
      ts: 1_710_080_525_500,
      values: { v: 3 },
      skipped: [],
    },
  ];
  it.each(cases)('$name', ({ payload, options, values, ts, skipped }) => {
    const result = decodeJson(payload, options);
    expect(result.error).toBeUndefined();
    expect(result.readings).toEqual([{ values, ...(ts !== undefined ? { ts } : {}) }]);
    expect(result.skipped.map((s) => s.field).sort()).toEqual([...skipped].sort());
  });

  it('reads nothing, and says why, from what is not a JSON object', () => {
    expect(decodeJson('{oops').error).toBe('not JSON');
    expect(decodeJson('[1,2]').error).toBe('not a JSON object');
    expect(decodeJson('{"only":"text"}')).toEqual({
      readings: [],
      skipped: [{ field: 'only', reason: 'string' }],
    });
  });

  it('stops flattening at the depth guard', () => {
    const deep = '{"a":{"b":{"c":{"d":{"e":{"f":1}}}}},"x":1}';
    const result = decodeJson(deep, { maxDepth: 2 });
    expect(result.readings[0].values).toEqual({ x: 1 });
    expect(result.skipped).toEqual([{ field: 'a.b.c', reason: 'type' }]);
  });
});

describe('value (one value per topic)', () => {
  it.each([
    ['21.5', 21.5],
    [' -3 ', -3],
    ['ON', 1],
    ['OFF', 0],
    ['true', 1],
    ['closed', 0],
  ])('ESPHome / Tasmota state %j', (payload, value) => {
    expect(decodeValue(payload, 'temperature').readings).toEqual([
      { values: { temperature: value } },
    ]);
  });

  it.each(['nan', 'unavailable', ''])('skips %j (ESPHome publishes nan for unknown)', (p) => {
    expect(decodeValue(p, 'temperature')).toEqual({
      readings: [],
      skipped: [{ field: 'temperature', reason: 'string' }],
    });
  });
});

describe('senml (RFC 8428)', () => {
  it('reads the RFC example with base name, base time, base unit and relative times', () => {
    const pack = JSON.stringify([
      {
        bn: 'urn:dev:ow:10e2073a01080063:',
        bt: 1.276020076001e9,
        bu: 'A',
        bver: 5,
        n: 'voltage',
        u: 'V',
        v: 120.1,
      },
      { n: 'current', t: -5, v: 1.2 },
      { n: 'current', t: -4, v: 1.3 },
    ]);
    const device = 'urn_dev_ow_10e2073a01080063';
    expect(decodeSenml(pack, NOW)).toEqual({
      readings: [
        { device, ts: 1_276_020_076_001, values: { voltage: 120.1 } },
        { device, ts: 1_276_020_071_001, values: { current: 1.2 } },
        { device, ts: 1_276_020_072_001, values: { current: 1.3 } },
      ],
      skipped: [],
      units: { voltage: 'V', current: 'A' },
    });
  });

  it('adds the base value, reads booleans, skips texts, and treats small times as relative to now', () => {
    const pack = JSON.stringify([
      { bn: 'meter-7/', bv: 1000, n: 'counter', v: 5, t: -10 },
      { n: 'counter', v: 7 },
      { n: 'door', vb: true },
      { n: 'label', vs: 'hall' },
    ]);
    expect(decodeSenml(pack, NOW)).toEqual({
      readings: [
        { device: 'meter-7', ts: NOW - 10_000, values: { counter: 1005 } },
        { device: 'meter-7', values: { counter: 1007, door: 1 } },
      ],
      skipped: [{ field: 'label', reason: 'string' }],
    });
  });

  it('without a base name leaves the device to the source', () => {
    expect(decodeSenml('[{"n":"temp","v":21}]', NOW).readings).toEqual([{ values: { temp: 21 } }]);
  });

  it('says what is not a pack', () => {
    expect(decodeSenml('{"n":"x","v":1}', NOW).error).toBe('not a SenML pack (array)');
    expect(decodeSenml('nope', NOW).error).toBe('not JSON');
  });
});

describe('influx (line protocol)', () => {
  it('reads escaped spaces and commas in tags, typed fields, and ns timestamps', () => {
    const lines = [
      '# written by telegraf',
      'weather,location=us\\ midwest,host=sensor\\,1 temperature=82.5,humidity=71i,label="a b, c",ok=t 1465839830100400200',
      'cpu,host=server\\ 01,region=us-west usage_idle=98.2,usage_user=1.3,up=1700u 1700000000000000000',
      '',
    ].join('\n');
    expect(decodeInflux(lines)).toEqual({
      readings: [
        {
          device: 'sensor_1',
          ts: 1_465_839_830_100,
          values: { 'weather.temperature': 82.5, 'weather.humidity': 71, 'weather.ok': 1 },
        },
        {
          device: 'server_01',
          ts: 1_700_000_000_000,
          values: { 'cpu.usage_idle': 98.2, 'cpu.usage_user': 1.3, 'cpu.up': 1700 },
        },
      ],
      skipped: [{ field: 'weather.label', reason: 'string' }],
    });
  });

  it('names the device by the measurement when no device tag is there, in the precision asked', () => {
    expect(decodeInflux('boiler-3 temp=61.5,on=false 1710080525', { precision: 's' })).toEqual({
      readings: [{ device: 'boiler-3', ts: 1_710_080_525_000, values: { temp: 61.5, on: 0 } }],
      skipped: [],
    });
    expect(decodeInflux('room,device=r1 co2=612').readings).toEqual([
      { device: 'r1', values: { 'room.co2': 612 } },
    ]);
  });

  it('says how many lines it could not read', () => {
    expect(decodeInflux('just-a-name\nalso bad line here too').error).toBe(
      '2 line(s) not in line protocol',
    );
  });
});

describe('shelly-rpc (Gen2 notifications)', () => {
  it('reads a Shelly Plus 1PM NotifyStatus at its own time, for its own id, without ids and timestamps as metrics', () => {
    const payload =
      '{"src":"shellyplus1pm-80646fe1b0b4","dst":"shellyplus1pm-80646fe1b0b4/events","method":"NotifyStatus","params":{"ts":1710080525.25,"switch:0":{"id":0,"aenergy":{"by_minute":[0,0,0],"minute_ts":1710080520,"total":2.671},"apower":12.4,"current":0.062,"voltage":231.8,"output":true,"source":"WS_in"}}}';
    expect(decodeShellyRpc(payload)).toEqual({
      readings: [
        {
          device: 'shellyplus1pm-80646fe1b0b4',
          ts: 1_710_080_525_250,
          values: {
            'switch_0.aenergy.total': 2.671,
            'switch_0.apower': 12.4,
            'switch_0.current': 0.062,
            'switch_0.voltage': 231.8,
            'switch_0.output': 1,
          },
        },
      ],
      skipped: [{ field: 'switch_0.source', reason: 'string' }],
      units: {
        'switch_0.aenergy.total': 'Wh',
        'switch_0.apower': 'W',
        'switch_0.current': 'A',
        'switch_0.voltage': 'V',
      },
    });
  });

  it('gives temperatures both units the device reports, and a battery its units', () => {
    const payload =
      '{"src":"shellyplusht-08b61fcb7f3c","method":"NotifyFullStatus","params":{"ts":1710080525.25,"temperature:0":{"id":0,"tC":21.4,"tF":70.5},"humidity:0":{"id":0,"rh":48.2},"devicepower:0":{"id":0,"battery":{"V":5.9,"percent":98},"external":{"present":false}},"switch:0":{"id":0,"freq":50,"ret_aenergy":{"total":0.5,"by_minute":[0,0,0],"minute_ts":1710080520},"temperature":{"tC":45.2,"tF":113.4}}}}';
    expect(decodeShellyRpc(payload).units).toEqual({
      'temperature_0.tC': '°C',
      'temperature_0.tF': '°F',
      'humidity_0.rh': '%',
      'devicepower_0.battery.V': 'V',
      'devicepower_0.battery.percent': '%',
      'switch_0.freq': 'Hz',
      'switch_0.ret_aenergy.total': 'Wh',
      'switch_0.temperature.tC': '°C',
      'switch_0.temperature.tF': '°F',
    });
  });

  it('leaves out the system status that is not a measurement (clock, revisions), keeping uptime and memory', () => {
    const payload =
      '{"src":"shellyplus1pm-80646fe1b0b4","method":"NotifyFullStatus","params":{"ts":1710080525.25,"sys":{"mac":"80646FE1B0B4","restart_required":false,"time":"14:22","unixtime":1710080525,"uptime":3605,"ram_size":246124,"ram_free":148472,"cfg_rev":12,"kvs_rev":0,"schedule_rev":1,"webhook_rev":0},"wifi":{"sta_ip":"192.168.1.40","status":"got ip","rssi":-61},"input:0":{"id":0,"state":false}}}';
    const result = decodeShellyRpc(payload);
    expect(result.units).toEqual({ 'sys.uptime': 's', 'wifi.rssi': 'dBm' });
    expect(result.readings[0].values).toEqual({
      'sys.restart_required': 0,
      'sys.uptime': 3605,
      'sys.ram_size': 246124,
      'sys.ram_free': 148472,
      'wifi.rssi': -61,
      'input_0.state': 0,
    });
  });

  it('sets other notifications aside without calling them errors', () => {
    const event =
      '{"src":"shellyplus1pm-80646fe1b0b4","method":"NotifyEvent","params":{"ts":1710080525.25,"events":[{"component":"input:0","id":0,"event":"single_push","ts":1710080525.25}]}}';
    expect(decodeShellyRpc(event)).toEqual({ readings: [], skipped: [], ignored: true });
    expect(decodeShellyRpc('{"id":1,"result":{}}').error).toBe('not a Shelly RPC notification');
  });
});

describe('toId', () => {
  it.each([
    ['Living Room Sensor', 'Living_Room_Sensor'],
    ['urn:dev:ow:10e2073a01080063:', 'urn_dev_ow_10e2073a01080063'],
    ['switch:0', 'switch_0'],
    ['  ', null],
    ['x'.repeat(80), 'x'.repeat(64)],
  ])('%j -> %j', (name, id) => expect(toId(name)).toBe(id));
});
