import { LIMITS } from '../limits';
import { decodeZigbee2mqtt } from './index';

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
