import {
  DecodedMessage,
  decodeDeviceMessage,
  LIMITS,
  metaTopic,
  RejectReason,
  REJECT_REASONS,
  statusTopic,
  telemetryTopic,
} from '../index';

/** A fixed server clock: every case is deterministic. */
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const T = telemetryTopic('dev-1');

function decode(payload: string | Uint8Array, topic = T): DecodedMessage {
  return decodeDeviceMessage(topic, payload, NOW);
}

/** Reasons of a rejected message, or of the per-reading rejections of a telemetry message. */
function reasons(result: DecodedMessage): RejectReason[] {
  return 'rejections' in result ? result.rejections.map((r) => r.reason) : [];
}

describe('decodeDeviceMessage: telemetry a device may send', () => {
  it.each<[string, string, Array<{ ts: number; values: Record<string, number> }>]>([
    [
      'one reading',
      `{"ts":${NOW - 1000},"values":{"temperature":21.5,"humidity":40}}`,
      [{ ts: NOW - 1000, values: { temperature: 21.5, humidity: 40 } }],
    ],
    [
      'one reading without ts is stamped now',
      '{"values":{"temperature":21.5}}',
      [{ ts: NOW, values: { temperature: 21.5 } }],
    ],
    [
      'flat shorthand',
      `{"temperature":21.5,"ts":${NOW - 5}}`,
      [{ ts: NOW - 5, values: { temperature: 21.5 } }],
    ],
    [
      'flat shorthand without ts',
      '{"co2":612,"power_W":-3.5e2}',
      [{ ts: NOW, values: { co2: 612, power_W: -350 } }],
    ],
    [
      'a batch',
      `[{"ts":${NOW - 2000},"values":{"t":1}},{"ts":${NOW - 1000},"values":{"t":2}},{"values":{"t":3}}]`,
      [
        { ts: NOW - 2000, values: { t: 1 } },
        { ts: NOW - 1000, values: { t: 2 } },
        { ts: NOW, values: { t: 3 } },
      ],
    ],
    [
      'a batch of flat shorthands',
      '[{"a":1},{"b":2}]',
      [
        { ts: NOW, values: { a: 1 } },
        { ts: NOW, values: { b: 2 } },
      ],
    ],
    [
      'fractional ms are rounded',
      `{"ts":${NOW - 10.6},"values":{"x":0}}`,
      [{ ts: NOW - 11, values: { x: 0 } }],
    ],
    [
      'a ts slightly ahead (clock skew within limits)',
      `{"ts":${NOW + 60_000},"values":{"x":1}}`,
      [{ ts: NOW + 60_000, values: { x: 1 } }],
    ],
    [
      'ts exactly 2000-01-01',
      `{"ts":${LIMITS.minTimestampMs},"values":{"x":1}}`,
      [{ ts: LIMITS.minTimestampMs, values: { x: 1 } }],
    ],
    [
      'metric names with every allowed character',
      '{"values":{"A-z_0.9":1,"' + 'm'.repeat(64) + '":2}}',
      [{ ts: NOW, values: { 'A-z_0.9': 1, ['m'.repeat(64)]: 2 } }],
    ],
    [
      'zero, negative and exponent values',
      '{"values":{"a":0,"b":-1.5,"c":1e-300,"d":1.7976931348623157e308}}',
      [{ ts: NOW, values: { a: 0, b: -1.5, c: 1e-300, d: Number.MAX_VALUE } }],
    ],
    [
      'exactly the metric limit',
      JSON.stringify({ values: metrics(LIMITS.maxMetricsPerReading) }),
      [{ ts: NOW, values: metrics(LIMITS.maxMetricsPerReading) }],
    ],
    ['whitespace around the JSON', '  \n{"values":{"a":1}}\t ', [{ ts: NOW, values: { a: 1 } }]],
  ])('accepts %s', (_name, payload, expected) => {
    const result = decode(payload);
    expect(result).toEqual({
      kind: 'telemetry',
      deviceId: 'dev-1',
      readings: expected.map((r) => ({ deviceId: 'dev-1', ...r })),
      rejections: [],
    });
  });

  it('accepts exactly the batch limit', () => {
    const batch = Array.from({ length: LIMITS.maxBatchReadings }, (_, i) => ({
      ts: NOW - i,
      values: { v: i },
    }));
    const result = decode(JSON.stringify(batch));
    expect(result.kind).toBe('telemetry');
    expect(result.kind === 'telemetry' && result.readings).toHaveLength(LIMITS.maxBatchReadings);
  });

  it('accepts UTF-8 bytes (what MQTT delivers)', () => {
    const result = decode(new TextEncoder().encode('{"values":{"a":1}}'));
    expect(result).toMatchObject({
      kind: 'telemetry',
      readings: [{ deviceId: 'dev-1', ts: NOW, values: { a: 1 } }],
    });
  });

  it('keeps `__proto__` and prototype keys out of the values object', () => {
    const result = decode('{"values":{"constructor":1,"toString":2}}');
    expect(result.kind).toBe('telemetry');
    if (result.kind !== 'telemetry') return;
    expect(Object.keys(result.readings[0].values)).toEqual(['constructor', 'toString']);
    expect(Object.getPrototypeOf(result.readings[0].values)).toBe(Object.prototype);
  });
});

describe('decodeDeviceMessage: status and meta', () => {
  it.each([
    ['online', 'online'],
    ['offline', 'offline'],
    [' online\n', 'online'],
    ['\toffline  ', 'offline'],
  ] as const)('accepts status %j', (payload, status) => {
    expect(decode(payload, statusTopic('dev-1'))).toEqual({
      kind: 'status',
      deviceId: 'dev-1',
      status,
    });
  });

  it.each(['', 'ONLINE', 'on', 'online!', '"online"', '1', 'null'])(
    'rejects status %j',
    (payload) => {
      const result = decode(payload, statusTopic('dev-1'));
      expect(result).toMatchObject({ kind: 'rejected', deviceId: 'dev-1' });
      expect(reasons(result)).toEqual(['status']);
    },
  );

  it.each([
    [
      'full meta',
      {
        name: 'Hall A — sensor 1',
        group: 'hall-a',
        units: { temperature: '°C', humidity: '%' },
        intervalMs: 1000,
      },
    ],
    ['name only', { name: 'x' }],
    ['empty object', {}],
  ])('accepts %s', (_name, meta) => {
    expect(decode(JSON.stringify(meta), metaTopic('dev-1'))).toEqual({
      kind: 'meta',
      deviceId: 'dev-1',
      meta,
    });
  });

  it('ignores unknown meta keys', () => {
    expect(decode('{"name":"n","firmware":"1.2.3"}', metaTopic('dev-1'))).toEqual({
      kind: 'meta',
      deviceId: 'dev-1',
      meta: { name: 'n' },
    });
  });

  it('treats an empty meta payload as "cleared" (retained message deleted)', () => {
    expect(decode('', metaTopic('dev-1'))).toEqual({ kind: 'meta', deviceId: 'dev-1', meta: null });
    expect(decode(new Uint8Array(0), metaTopic('dev-1'))).toEqual({
      kind: 'meta',
      deviceId: 'dev-1',
      meta: null,
    });
  });

  it.each<[string, string, RejectReason]>([
    ['not JSON', '{name:', 'json'],
    ['null', 'null', 'meta'],
    ['an array', '[]', 'meta'],
    ['a string', '"hall"', 'meta'],
    ['empty name', '{"name":""}', 'meta'],
    ['too long name', JSON.stringify({ name: 'n'.repeat(LIMITS.maxNameLength + 1) }), 'meta'],
    ['bad group id', '{"group":"hall a"}', 'meta'],
    ['group with a slash', '{"group":"a/b"}', 'meta'],
    ['numeric unit', '{"units":{"t":1}}', 'meta'],
    [
      'too long unit',
      JSON.stringify({ units: { t: 'u'.repeat(LIMITS.maxUnitLength + 1) } }),
      'meta',
    ],
    ['bad unit metric name', '{"units":{"a b":"C"}}', 'meta'],
    [
      'too many units',
      JSON.stringify({
        units: Object.fromEntries(
          Object.keys(metrics(LIMITS.maxMetricsPerReading + 1)).map((k) => [k, 'u']),
        ),
      }),
      'meta',
    ],
    ['negative interval', '{"intervalMs":-1}', 'meta'],
    ['fractional interval', '{"intervalMs":1.5}', 'meta'],
    ['deeply nested units', '{"units":' + '['.repeat(5000) + ']'.repeat(5000) + '}', 'meta'],
  ])('rejects meta with %s', (_name, payload, reason) => {
    const result = decode(payload, metaTopic('dev-1'));
    expect(result).toMatchObject({ kind: 'rejected', deviceId: 'dev-1' });
    expect(reasons(result)).toEqual([reason]);
  });
});

describe('decodeDeviceMessage: bad telemetry is rejected with a reason, never thrown', () => {
  const tooManyMetrics = JSON.stringify({ values: metrics(LIMITS.maxMetricsPerReading + 1) });
  const tooManyReadings = JSON.stringify(
    Array.from({ length: LIMITS.maxBatchReadings + 1 }, () => ({ a: 1 })),
  );

  it.each<[string, string, RejectReason]>([
    ['empty payload', '', 'json'],
    ['bad JSON', '{"values":', 'json'],
    ['trailing garbage', '{"values":{"a":1}}x', 'json'],
    ['NaN literal', '{"values":{"a":NaN}}', 'json'],
    ['single quotes', "{'values':{'a':1}}", 'json'],
    ['unterminated nesting', '['.repeat(5000), 'json'],
    ['a number', '42', 'shape'],
    ['a string', '"hello"', 'shape'],
    ['null', 'null', 'shape'],
    ['true', 'true', 'shape'],
    ['values is an array', '{"values":[1,2]}', 'shape'],
    ['values is null', '{"values":null}', 'shape'],
    ['values is a number', '{"values":5}', 'shape'],
    ['a string value', '{"values":{"temperature":"21.5"}}', 'value'],
    ['a null value', '{"values":{"temperature":null}}', 'value'],
    ['a boolean value', '{"values":{"temperature":true}}', 'value'],
    ['an array value', '{"values":{"temperature":[21.5]}}', 'value'],
    ['a nested object value', '{"values":{"temperature":{"c":21.5}}}', 'value'],
    ['a string value in shorthand', '{"temperature":"hot"}', 'value'],
    ['an infinite value (1e999)', '{"values":{"temperature":1e999}}', 'value'],
    ['a negative infinite value', '{"values":{"temperature":-1e999}}', 'value'],
    ['empty values', '{"values":{}}', 'empty'],
    ['an empty object', '{}', 'empty'],
    ['only a ts', `{"ts":${NOW}}`, 'empty'],
    ['an empty batch', '[]', 'empty'],
    ['too long metric name', `{"values":{"${'m'.repeat(65)}":1}}`, 'metric_name'],
    ['empty metric name', '{"values":{"":1}}', 'metric_name'],
    ['metric name with a slash', '{"values":{"a/b":1}}', 'metric_name'],
    ['metric name with a space', '{"values":{"a b":1}}', 'metric_name'],
    ['metric name with MQTT wildcards', '{"values":{"a+#":1}}', 'metric_name'],
    ['unicode metric name', '{"values":{"température":1}}', 'metric_name'],
    ['emoji metric name', '{"values":{"🔥":1}}', 'metric_name'],
    ['__proto__ metric', '{"values":{"__proto__":1}}', 'metric_name'],
    ['__proto__ in shorthand', '{"__proto__":1}', 'metric_name'],
    ['a ts in seconds', `{"ts":${Math.floor(NOW / 1000)},"values":{"a":1}}`, 'timestamp'],
    ['a ts before 2000', `{"ts":${LIMITS.minTimestampMs - 1},"values":{"a":1}}`, 'timestamp'],
    ['a ts of zero', '{"ts":0,"values":{"a":1}}', 'timestamp'],
    ['a negative ts', '{"ts":-1,"values":{"a":1}}', 'timestamp'],
    ['a string ts', `{"ts":"${new Date(NOW).toISOString()}","values":{"a":1}}`, 'timestamp'],
    ['a null ts', '{"ts":null,"values":{"a":1}}', 'timestamp'],
    ['an infinite ts', '{"ts":1e999,"values":{"a":1}}', 'timestamp'],
    [
      'a ts far in the future',
      `{"ts":${NOW + 24 * 3600_000},"values":{"a":1}}`,
      'future_timestamp',
    ],
    [
      'a ts just past the skew limit',
      `{"ts":${NOW + LIMITS.maxFutureSkewMs + 1},"values":{"a":1}}`,
      'future_timestamp',
    ],
    ['a ts in microseconds', `{"ts":${NOW * 1000},"values":{"a":1}}`, 'future_timestamp'],
    ['too many metrics in one reading', tooManyMetrics, 'too_many_metrics'],
    ['too many readings in one batch', tooManyReadings, 'batch_too_large'],
    ['a batch of non-objects', '[1,"a",null]', 'shape'],
    ['deeply nested arrays', '['.repeat(5000) + ']'.repeat(5000), 'shape'],
    ['deeply nested arrays at the size limit', '['.repeat(32_000) + ']'.repeat(32_000), 'shape'],
    ['a 60 KB nested object', nestedObject(60 * 1024), 'value'],
    ['a 60 KB nested object in a batch', `[${nestedObject(60 * 1024)}]`, 'value'],
  ])('rejects %s', (_name, payload, reason) => {
    let result!: DecodedMessage;
    expect(() => (result = decode(payload))).not.toThrow();
    expect(result.kind).toBe('rejected');
    expect(result.deviceId).toBe('dev-1');
    expect(reasons(result)[0]).toBe(reason);
    for (const rejection of 'rejections' in result ? result.rejections : []) {
      expect(REJECT_REASONS).toContain(rejection.reason);
      // Details quote the bad value but stay readable in a log line.
      expect(rejection.detail.length).toBeLessThan(200);
    }
  });

  it('rejects an oversize payload before parsing it', () => {
    const big = JSON.stringify({ values: { a: 1 }, pad: 'x'.repeat(LIMITS.maxPayloadBytes) });
    expect(reasons(decode(big))).toEqual(['oversize']);
    expect(reasons(decode(new TextEncoder().encode(big)))).toEqual(['oversize']);
  });

  it('measures the size limit in UTF-8 bytes, also for string payloads', () => {
    // 30 000 three-byte characters: 30 000 UTF-16 units but 90 000 bytes on the wire.
    const wide = JSON.stringify({ values: { a: 1 }, note: '€'.repeat(30_000) });
    expect(wide.length).toBeLessThan(LIMITS.maxPayloadBytes);
    expect(reasons(decode(wide))).toEqual(['oversize']);
    expect(reasons(decode(new TextEncoder().encode(wide)))).toEqual(['oversize']);
    // Non-BMP characters (surrogate pairs) count as 4 bytes each.
    const emoji = JSON.stringify({ values: { a: 1 }, note: '🔥'.repeat(17_000) });
    expect(reasons(decode(emoji))).toEqual(['oversize']);
    expect(decode(JSON.stringify({ values: { a: 1 }, note: '€'.repeat(20_000) })).kind).toBe(
      'telemetry',
    );
  });

  it('honours custom limits', () => {
    const limits = {
      maxPayloadBytes: 100,
      maxBatchReadings: 2,
      maxMetricsPerReading: 1,
      maxFutureSkewMs: 0,
    };
    const at = (p: string): DecodedMessage => decodeDeviceMessage(T, p, NOW, limits);
    expect(reasons(at(`{"values":{"a":1},"p":"${'x'.repeat(100)}"}`))).toEqual(['oversize']);
    expect(reasons(at('[{"a":1},{"a":1},{"a":1}]'))).toEqual(['batch_too_large']);
    expect(reasons(at('{"a":1,"b":2}'))).toEqual(['too_many_metrics']);
    expect(reasons(at(`{"ts":${NOW + 1},"a":1}`))).toEqual(['future_timestamp']);
    expect(at(`{"ts":${NOW},"a":1}`).kind).toBe('telemetry');
  });

  it.each([
    ['0xff 0xfe', [0xff, 0xfe]],
    ['a lone continuation byte', [0x7b, 0x80, 0x7d]],
    ['a truncated sequence', [0x7b, 0x22, 0xe2, 0x82, 0x22, 0x7d]],
    ['an overlong encoding', [0xc0, 0xaf]],
    ['a UTF-16 surrogate encoded in UTF-8', [0xed, 0xa0, 0x80]],
  ])('rejects non-UTF-8 bytes: %s', (_name, bytes) => {
    for (const topic of [T, statusTopic('dev-1'), metaTopic('dev-1')]) {
      expect(decode(new Uint8Array(bytes), topic)).toEqual({
        kind: 'rejected',
        deviceId: 'dev-1',
        rejections: [{ reason: 'encoding', detail: 'payload is not valid UTF-8' }],
      });
    }
  });

  it.each([
    ['devices/a b/telemetry'],
    ['devices/a+b/telemetry'],
    ['devices/#/telemetry'],
    ['devices//telemetry'],
    [`devices/${'d'.repeat(65)}/telemetry`],
    ['devices/caf\u00e9/telemetry'],
    ['devices/dev-1/telemetry/extra'],
    ['devices/dev-1/alarm'],
    ['devices/dev-1'],
    ['/devices/dev-1/telemetry'],
    ['sensors/dev-1/telemetry'],
    ['DEVICES/dev-1/telemetry'],
    [''],
  ])('rejects topic %j without naming a device', (topic) => {
    const result = decode('{"values":{"a":1}}', topic);
    expect(result).toMatchObject({ kind: 'rejected', deviceId: null });
    expect(reasons(result)).toEqual(['topic']);
  });

  it('quotes the bad value in the detail, cut to a readable length', () => {
    const result = decode(`{"values":{"temperature":"${'h'.repeat(500)}"}}`);
    expect(result.kind).toBe('rejected');
    const detail = 'rejections' in result ? result.rejections[0].detail : '';
    expect(detail).toContain('"temperature"');
    expect(detail).toContain('hhhh');
    expect(detail.length).toBeLessThan(120);
  });
});

describe('decodeDeviceMessage: a batch mixing good and bad readings', () => {
  it('keeps the good readings and reports each bad one with its [index]', () => {
    const batch = [
      { ts: NOW - 3000, values: { t: 20 } },
      { ts: NOW - 2000, values: { t: 'warm' } },
      { ts: NOW - 1000, values: { t: 22 } },
      'junk',
      { ts: NOW + 3600_000, values: { t: 23 } },
      { values: { 'a/b': 1 } },
      { ts: 1_700_000_000, values: { t: 24 } },
      { values: {} },
      { t: 25 },
    ];
    const result = decode(JSON.stringify(batch));
    expect(result.kind).toBe('telemetry');
    if (result.kind !== 'telemetry') return;
    expect(result.readings).toEqual([
      { deviceId: 'dev-1', ts: NOW - 3000, values: { t: 20 } },
      { deviceId: 'dev-1', ts: NOW - 1000, values: { t: 22 } },
      { deviceId: 'dev-1', ts: NOW, values: { t: 25 } },
    ]);
    expect(result.rejections.map((r) => [r.reason, r.detail.slice(0, 4)])).toEqual([
      ['value', '[1] '],
      ['shape', '[3] '],
      ['future_timestamp', '[4] '],
      ['metric_name', '[5] '],
      ['timestamp', '[6] '],
      ['empty', '[7] '],
    ]);
  });

  it('rejects the message when every reading is bad, listing each', () => {
    const result = decode('[{"a":"x"},{"b":null}]');
    expect(result).toMatchObject({ kind: 'rejected', deviceId: 'dev-1' });
    expect(
      result.kind === 'rejected' && result.rejections.map((r) => r.detail.slice(0, 3)),
    ).toEqual(['[0]', '[1]']);
  });
});

function metrics(n: number): Record<string, number> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`m${i}`, i]));
}

/** `{"a":{"a":...1...}}` about `bytes` long. */
function nestedObject(bytes: number): string {
  const depth = Math.floor(bytes / 6);
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}
