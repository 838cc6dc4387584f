import {
  DEVICE_SUBSCRIPTIONS,
  deviceRoom,
  FLEET_ROOM,
  groupRoom,
  isValidId,
  metaTopic,
  parseTopic,
  quote,
  sharedSubscription,
  statusTopic,
  telemetryTopic,
  TOPIC_KINDS,
} from '../index';

describe('topics', () => {
  it.each(['sim-001', 'a', 'A.b_c-9', 'd'.repeat(64)])(
    'builders and parseTopic round-trip for %j',
    (id) => {
      expect(parseTopic(telemetryTopic(id))).toEqual({ deviceId: id, kind: 'telemetry' });
      expect(parseTopic(statusTopic(id))).toEqual({ deviceId: id, kind: 'status' });
      expect(parseTopic(metaTopic(id))).toEqual({ deviceId: id, kind: 'meta' });
    },
  );

  it('builds the documented topic names', () => {
    expect(telemetryTopic('sim-001')).toBe('devices/sim-001/telemetry');
    expect(statusTopic('sim-001')).toBe('devices/sim-001/status');
    expect(metaTopic('sim-001')).toBe('devices/sim-001/meta');
  });

  it('subscribes to one filter per kind', () => {
    expect(DEVICE_SUBSCRIPTIONS).toEqual([
      'devices/+/telemetry',
      'devices/+/status',
      'devices/+/meta',
    ]);
    expect(TOPIC_KINDS).toEqual(['telemetry', 'status', 'meta']);
    expect(sharedSubscription('pulse', DEVICE_SUBSCRIPTIONS[0])).toBe(
      '$share/pulse/devices/+/telemetry',
    );
  });

  it.each([
    '',
    'devices',
    'devices/',
    'devices/x',
    'devices/x/',
    'devices//telemetry',
    'devices/+/telemetry',
    'devices/#',
    'devices/a b/status',
    'devices/a/b/telemetry',
    'devices/x/telemetry/',
    'devices/x/Telemetry',
    'devices/__proto__x/nope',
    `devices/${'d'.repeat(65)}/meta`,
    `devices/x/${'telemetry'.repeat(20)}`,
    'devices/ünï/meta',
    '$SYS/broker/uptime',
  ])('parseTopic refuses %j', (topic) => {
    expect(parseTopic(topic)).toBeNull();
  });

  it('parseTopic refuses non-strings without throwing', () => {
    expect(parseTopic(undefined as unknown as string)).toBeNull();
    expect(parseTopic(42 as unknown as string)).toBeNull();
  });

  it('builds room names', () => {
    expect(FLEET_ROOM).toBe('fleet');
    expect(deviceRoom('sim-001')).toBe('device:sim-001');
    expect(groupRoom('hall-a')).toBe('group:hall-a');
  });
});

describe('ids', () => {
  it.each([
    ['sim-001', true],
    ['A.b_c-9', true],
    ['x'.repeat(64), true],
    ['x'.repeat(65), false],
    ['', false],
    ['a b', false],
    ['a/b', false],
    ['a+b', false],
    ['a#', false],
    ['café', false],
    ['a\n', false],
    // A URL path resolves these away: /api/users/.. is /api/.
    ['.', false],
    ['..', false],
    ['...', true],
    ['.hidden', true],
    [42, false],
    [null, false],
  ])('isValidId(%j) is %s', (value, expected) => {
    expect(isValidId(value)).toBe(expected);
  });

  it('quote never throws and stays short', () => {
    const deep: unknown[] = [];
    let cursor = deep;
    for (let i = 0; i < 100_000; i++) {
      const next: unknown[] = [];
      cursor.push(next);
      cursor = next;
    }
    expect(() => quote(deep)).not.toThrow();
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(quote(cyclic)).toBe('"[object]"');
    expect(quote(undefined)).toBe('"undefined"');
    expect(quote('x'.repeat(100))).toBe(JSON.stringify(`${'x'.repeat(40)}…`));
  });
});
