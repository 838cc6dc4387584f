import {
  formatIssues,
  FleetSummaryQuerySchema,
  HistoryQuerySchema,
  ID_MAX_LENGTH,
  WindowsQuerySchema,
  LIMITS,
  LIVE_NAMESPACE,
  SUMMARY_ROOM,
  LiveEvent,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from '../index';

describe('SubscribeRequestSchema', () => {
  it.each<[string, unknown]>([
    ['nothing (default window, nothing joined)', {}],
    ['devices', { devices: ['sim-001', 'sim-002'] }],
    ['groups', { groups: ['hall-a'] }],
    ['the fleet', { fleet: true }],
    ['since and maxPoints', { devices: ['d'], since: 1_700_000_000_000, maxPoints: 500 }],
    ['history off', { fleet: true, history: false }],
    [
      'the item limit',
      { devices: Array.from({ length: LIMITS.maxSubscribeItems }, (_, i) => `d${i}`) },
    ],
    ['since zero', { since: 0 }],
  ])('accepts %s', (_name, request) => {
    const result = SubscribeRequestSchema.safeParse(request);
    expect(result.success).toBe(true);
    expect(result.data).toEqual(request);
  });

  it.each<[string, unknown, string]>([
    ['null', null, '(root)'],
    ['an array', [], '(root)'],
    ['a string', 'sim-001', '(root)'],
    ['devices as a string', { devices: 'sim-001' }, 'devices'],
    ['a bad device id', { devices: ['ok', 'not ok'] }, 'devices.1'],
    ['a device id with a slash', { devices: ['a/b'] }, 'devices.0'],
    ['a too long device id', { devices: ['d'.repeat(65)] }, 'devices.0'],
    ['a numeric group', { groups: [1] }, 'groups.0'],
    [
      'too many devices',
      { devices: Array.from({ length: LIMITS.maxSubscribeItems + 1 }, (_, i) => `d${i}`) },
      'devices',
    ],
    ['fleet as a string', { fleet: 'yes' }, 'fleet'],
    ['a negative since', { since: -1 }, 'since'],
    ['since as a string', { since: '2026-01-01' }, 'since'],
    ['an infinite since', { since: Infinity }, 'since'],
    ['maxPoints zero', { maxPoints: 0 }, 'maxPoints'],
    ['fractional maxPoints', { maxPoints: 1.5 }, 'maxPoints'],
    ['huge maxPoints', { maxPoints: 1e9 }, 'maxPoints'],
    ['an unknown key', { device: ['sim-001'] }, '(root)'],
    ['a __proto__ key', JSON.parse('{"__proto__":{"fleet":true}}'), '(root)'],
  ])('rejects %s, naming the path', (_name, request, path) => {
    const result = SubscribeRequestSchema.safeParse(request);
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(formatIssues(result.error)).toMatch(new RegExp(`^${path.replace(/[.()]/g, '\\$&')}: `));
  });

  it('unsubscribe takes the same lists but no history options', () => {
    expect(
      UnsubscribeRequestSchema.safeParse({ devices: ['a'], groups: ['g'], fleet: true }).success,
    ).toBe(true);
    expect(UnsubscribeRequestSchema.safeParse({ since: 1 }).success).toBe(false);
  });
});

describe('HistoryQuerySchema', () => {
  it('coerces query strings and splits metrics', () => {
    expect(
      HistoryQuerySchema.parse({ from: '1000', to: '2000', maxPoints: '50', metrics: 'a,,b' }),
    ).toEqual({
      from: 1000,
      to: 2000,
      maxPoints: 50,
      metrics: ['a', 'b'],
    });
  });

  it.each([
    { from: 'yesterday' },
    { maxPoints: '0' },
    { to: '-5' },
    { extra: '1' },
    { from: '0x10' },
    { from: '1e3' },
    { from: ' 5' },
  ])('rejects %j', (query) => {
    expect(HistoryQuerySchema.safeParse(query).success).toBe(false);
  });

  it('says so when a parameter is given twice, or the range is backwards', () => {
    const issues = (query: unknown) => {
      const parsed = HistoryQuerySchema.safeParse(query);
      return parsed.success ? null : formatIssues(parsed.error);
    };
    expect(issues({ from: ['1', '2'] })).toBe('from: given more than once');
    expect(issues({ from: '5', to: '1' })).toBe('from: must not be after to');
    expect(HistoryQuerySchema.parse({ from: '5', to: '5' })).toEqual({ from: 5, to: 5 });
  });
});

describe('WindowsQuerySchema', () => {
  it('splits the device ids and coerces the rest', () => {
    expect(
      WindowsQuerySchema.parse({
        devices: 'a,b.1',
        from: '1000',
        maxPoints: '60',
        timeDeltas: 'true',
      }),
    ).toEqual({ devices: ['a', 'b.1'], from: 1000, maxPoints: 60, timeDeltas: true });
  });

  it('takes up to maxHistoryDevices ids of the longest length', () => {
    const ids = Array.from({ length: LIMITS.maxHistoryDevices }, (_, i) =>
      `${i}`.padStart(ID_MAX_LENGTH, 'x'),
    );
    expect(WindowsQuerySchema.parse({ devices: ids.join(',') }).devices).toHaveLength(ids.length);
  });

  it.each([
    { devices: '' },
    { devices: 'a,,b' },
    { devices: 'a/b' },
    { devices: 'a,a' },
    { devices: Array.from({ length: LIMITS.maxHistoryDevices + 1 }, (_, i) => `d${i}`).join(',') },
    { devices: 'a', maxPoints: '0' },
    { devices: 'a', timeDeltas: 'yes' },
    { devices: 'a', to: '5' },
    {},
  ])('rejects %j', (query) => {
    expect(WindowsQuerySchema.safeParse(query).success).toBe(false);
  });
});

describe('FleetSummaryQuerySchema', () => {
  it('takes a search of maxSearchChars characters and refuses a longer one', () => {
    const q = 'x'.repeat(LIMITS.maxSearchChars);
    expect(FleetSummaryQuerySchema.safeParse({ q }).success).toBe(true);
    expect(FleetSummaryQuerySchema.safeParse({ q: `${q}x` }).success).toBe(false);
  });
});

describe('live names', () => {
  it('are the documented ones', () => {
    expect(LIVE_NAMESPACE).toBe('/live');
    expect(Object.values(LiveEvent)).toEqual([
      'subscribe',
      'unsubscribe',
      'readings',
      'devices',
      'gateway',
      'alert',
      'lagged',
      'alerts',
      'alertsVersion',
      'ack',
      'summary',
      'throttle',
    ]);
    expect(SUMMARY_ROOM).toBe('summary');
  });
});
