import { decodeDeviceMessage, encodeTelemetry, Reading, telemetryTopic } from '../index';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

describe('encodeTelemetry', () => {
  it.each<[string, Reading[]]>([
    [
      'one reading',
      [{ deviceId: 'd', ts: NOW - 1, values: { temperature: 21.5, humidity: 40.25 } }],
    ],
    [
      'a batch',
      [
        { deviceId: 'd', ts: NOW - 2, values: { a: 1 } },
        { deviceId: 'd', ts: NOW - 1, values: { a: -2.5e-7, b: 1e300 } },
      ],
    ],
    [
      '500 readings',
      Array.from({ length: 500 }, (_, i) => ({ deviceId: 'd', ts: NOW - i, values: { v: i / 3 } })),
    ],
  ])('round-trips %s through the decoder', (_name, readings) => {
    const payload = encodeTelemetry(readings);
    expect(decodeDeviceMessage(telemetryTopic('d'), payload, NOW)).toEqual({
      kind: 'telemetry',
      deviceId: 'd',
      readings,
      rejections: [],
    });
    // Bytes, as MQTT delivers them.
    expect(
      decodeDeviceMessage(telemetryTopic('d'), new TextEncoder().encode(payload), NOW),
    ).toMatchObject({
      kind: 'telemetry',
      readings,
    });
  });

  it('sends one object for a single reading and an array for a batch, without the device id', () => {
    expect(JSON.parse(encodeTelemetry([{ ts: 1, values: { a: 1 } }]))).toEqual({
      ts: 1,
      values: { a: 1 },
    });
    expect(
      JSON.parse(
        encodeTelemetry([
          { ts: 1, values: { a: 1 } },
          { ts: 2, values: { a: 2 } },
        ]),
      ),
    ).toEqual([
      { ts: 1, values: { a: 1 } },
      { ts: 2, values: { a: 2 } },
    ]);
  });
});
