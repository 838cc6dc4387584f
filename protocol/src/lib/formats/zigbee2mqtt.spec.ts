import { decodeZigbee2mqtt } from './index';

// zigbee2mqtt 1.35 / 2.x device messages as published, with the units its device pages give each
// exposed property (https://www.zigbee2mqtt.io/devices/).

describe('zigbee2mqtt (device messages with units)', () => {
  it('gives a climate sensor’s properties their units, a battery’s voltage in mV', () => {
    const payload =
      '{"battery":97,"humidity":48.53,"last_seen":"2024-03-10T14:22:05.123Z","linkquality":134,"power_outage_count":12,"pressure":1012.4,"temperature":21.87,"voltage":3005,"device_temperature":25}';
    const result = decodeZigbee2mqtt(payload);
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
    expect(decodeZigbee2mqtt('{"constructor":1,"toString":2,"temperature":20}').units).toEqual({
      temperature: '°C',
    });
  });
});
