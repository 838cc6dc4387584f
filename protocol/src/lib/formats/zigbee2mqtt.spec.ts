import { LIMITS } from '../limits';
import { isValidId } from '../ids';
import { decodeZigbee2mqtt, nameToId, zigbee2mqttTopic } from './index';

// zigbee2mqtt 1.35 / 2.x device messages as published, with the units its device pages give each
// exposed property (https://www.zigbee2mqtt.io/devices/).

const NOW = 1_710_080_600_000;

describe('zigbee2mqtt (device messages with units)', () => {
  it('gives a climate sensor’s properties their units, a battery’s voltage in mV', () => {
    const payload =
      '{"battery":97,"humidity":48.53,"last_seen":"2024-03-10T14:22:05.123Z","linkquality":134,"power_outage_count":12,"pressure":1012.4,"temperature":21.87,"voltage":3005,"device_temperature":25}';
    const result = decodeZigbee2mqtt(payload, NOW);
    expect(result.readings).toEqual([
      {
        ts: Date.parse('2024-03-10T14:22:05.123Z'),
        values: {
          battery: 97,
          humidity: 48.53,
          linkquality: 134,
          power_outage_count: 12,
          pressure: 1012.4,
          temperature: 21.87,
          voltage: 3005,
          device_temperature: 25,
        },
      },
    ]);
    expect(result.units).toEqual({
      battery: '%',
      humidity: '%',
      linkquality: 'lqi',
      pressure: 'hPa',
      temperature: '°C',
      voltage: 'mV',
      device_temperature: '°C',
    });
  });

  it('gives a plug’s mains voltage in V, power W, energy kWh, current A', () => {
    const result = decodeZigbee2mqtt(
      '{"state":"ON","power":12.5,"energy":3.21,"voltage":231,"current":0.06,"linkquality":80}',
      NOW,
    );
    expect(result.units).toEqual({
      power: 'W',
      energy: 'kWh',
      voltage: 'V',
      current: 'A',
      linkquality: 'lqi',
    });
  });

  it('gives no unit to a property named like an object’s own members', () => {
    expect(decodeZigbee2mqtt('{"constructor":1,"toString":2,"temperature":20}', NOW).units).toEqual(
      {
        temperature: '°C',
      },
    );
  });

  describe('last_seen, in each form the bridge writes it (`advanced.last_seen`)', () => {
    it.each([
      ['ISO_8601', '"2024-03-10T14:22:05.123Z"', Date.parse('2024-03-10T14:22:05.123Z')],
      ['ISO_8601_local', '"2024-03-10T15:22:05.123+01:00"', Date.parse('2024-03-10T14:22:05.123Z')],
      ['epoch', '1710080525123', 1_710_080_525_123],
    ])('%s', (_, lastSeen, ts) => {
      const result = decodeZigbee2mqtt(`{"temperature":21.5,"last_seen":${lastSeen}}`, NOW);
      expect(result).toEqual({
        readings: [{ ts, values: { temperature: 21.5 } }],
        skipped: [],
        units: { temperature: '°C' },
      });
    });

    it('takes the receive time when the bridge’s clock is ahead by more than the contract allows, saying so', () => {
      const ahead = NOW + 60 * 60_000; // the bridge an hour ahead (a time zone set wrong)
      const result = decodeZigbee2mqtt(`{"temperature":21.5,"last_seen":${ahead}}`, NOW);
      expect(result.readings).toEqual([{ values: { temperature: 21.5 } }]);
      expect(result.skipped).toEqual([{ field: 'last_seen', reason: 'future_timestamp' }]);
      // Within the contract's skew, the bridge's time stands.
      const near = NOW + LIMITS.maxFutureSkewMs;
      expect(
        decodeZigbee2mqtt(`{"temperature":21.5,"last_seen":${near}}`, NOW).readings[0].ts,
      ).toBe(near);
    });

    it('skips a last_seen it cannot place (local time without a zone)', () => {
      const result = decodeZigbee2mqtt(
        '{"temperature":21.5,"last_seen":"2024-03-10 14:22:05"}',
        NOW,
      );
      expect(result.readings).toEqual([{ values: { temperature: 21.5 } }]);
      expect(result.skipped).toEqual([{ field: 'last_seen', reason: 'timestamp' }]);
    });
  });
});

describe('nameToId (a friendly name as a device id)', () => {
  it('keeps a name that is an id already, as zigbee2mqtt’s own default names are', () => {
    for (const name of ['Hall_Sensor', '0x00158d0001a2b3c4', 'kitchen.plug-2'])
      expect(nameToId(name)).toBe(name);
  });

  it('makes any other name an id of its readable part and a hash of the whole name', () => {
    expect(nameToId('Hall Sensor')).toMatch(/^Hall_Sensor-[0-9a-f]{8}$/);
    expect(nameToId('Büro Thermostat')).toMatch(/^Buro_Thermostat-[0-9a-f]{8}$/);
    expect(nameToId('Kitchen/Plug 1')).toMatch(/^Kitchen_Plug_1-[0-9a-f]{8}$/);
    expect(nameToId('温度计')).toMatch(/^device-[0-9a-f]{8}$/);
    expect(nameToId('')).toBeNull();
  });

  it('gives the same id to a name in every release (ids key history and alerts)', () => {
    // FNV-1a (32 bits) of the name's UTF-8 bytes, in hex.
    expect(nameToId('Hall Sensor')).toBe('Hall_Sensor-6cea95e0');
    expect(nameToId('温度计')).toBe('device-f340057e');
  });

  it('never gives two names one id: lossy names, long names, names that look hashed', () => {
    const names = [
      'Hall Sensor',
      'Hall_Sensor',
      'Hall  Sensor',
      'Hall/Sensor',
      'Hall_Sensor-6cea95e0', // an id already, but shaped like a hashed one: hashed too
      'Büro',
      'Buro',
      'Bu\u0308ro', // the same word decomposed: other bytes, another device
      '温度计',
      '湿度计',
      'x'.repeat(64),
      'x'.repeat(65),
      'x'.repeat(66),
      `${'y'.repeat(60)} a`,
      `${'y'.repeat(60)} b`,
    ];
    const ids = names.map(nameToId);
    expect(new Set(ids).size).toBe(names.length);
    for (const id of ids) expect(isValidId(id)).toBe(true);
  });
});

describe('zigbee2mqttTopic (what the levels under the base topic say)', () => {
  it.each([
    [['Hall Sensor'], { role: 'state', name: 'Hall Sensor' }],
    [['Kitchen', 'Plug 1'], { role: 'state', name: 'Kitchen/Plug 1' }],
    [['温度计'], { role: 'state', name: '温度计' }],
    [['Kitchen', 'Plug 1', 'availability'], { role: 'availability', name: 'Kitchen/Plug 1' }],
    [['Hall', 'availability'], { role: 'availability', name: 'Hall' }],
  ])('%j → %j', (levels, expected) => expect(zigbee2mqttTopic(levels)).toEqual(expected));

  it.each([
    [['bridge', 'state']],
    [['bridge', 'response', 'device', 'rename']],
    [['bridge']],
    [['Plug', 'set']],
    [['Kitchen', 'Plug 1', 'set']],
    [['Plug', 'set', 'state']],
    [['Plug', 'get']],
    [['Plug', 'get', 'state']],
    [['Plug', 'l1', 'set']],
    [['Button', 'action']],
  ])('%j is zigbee2mqtt’s own: set aside', (levels) =>
    expect(zigbee2mqttTopic(levels)).toEqual({ role: 'ignored' }),
  );

  it('names nothing without a level', () => expect(zigbee2mqttTopic([])).toBeNull());
});
