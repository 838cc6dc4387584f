import {
  AckRequestSchema,
  ALERT_SEVERITIES,
  AlertQuerySchema,
  AlertRuleSchema,
  formatAlertsVersion,
  formatIssues,
  LiveAckRequestSchema,
  parseAckResponse,
  parseAlertEvent,
  parseAlertEventOfAnyBuild,
  parseAlertsVersion,
} from '../index';
import type { AlertEvent } from '../index';

describe('AlertRuleSchema', () => {
  it.each([
    [
      'threshold above',
      {
        id: 'a',
        kind: 'threshold',
        metric: 't',
        op: 'above',
        value: 30,
        clear: 28,
        forMs: 10_000,
        severity: 'major',
      },
    ],
    [
      'threshold outside',
      {
        id: 'a',
        kind: 'threshold',
        metric: 't',
        op: 'outside',
        low: 1,
        high: 9,
        clearLow: 2,
        clearHigh: 8,
        severity: 'info',
      },
    ],
    [
      'rate',
      {
        id: 'a',
        kind: 'rate',
        metric: 'v',
        windowMs: 5000,
        maxDelta: 5,
        per: 'window',
        direction: 'up',
        severity: 'minor',
      },
    ],
    [
      'device no-data',
      {
        id: 'a',
        kind: 'nodata',
        silenceMs: 5000,
        severity: 'minor',
        scope: { device: 'sim-001' },
      },
    ],
    [
      'metric no-data',
      {
        id: 'a',
        kind: 'nodata',
        metric: 'co2',
        cadenceMultiple: 3,
        severity: 'minor',
        scope: { group: 'lab' },
      },
    ],
    ['offline', { id: 'a', kind: 'offline', severity: 'critical', enabled: false }],
  ])('accepts %s', (_name, input) => {
    expect(AlertRuleSchema.safeParse(input).success).toBe(true);
  });

  it('reports paths a person can follow', () => {
    const result = AlertRuleSchema.safeParse({
      id: 'a',
      kind: 'threshold',
      metric: 't',
      op: 'below',
      value: 5,
      clear: 4,
      severity: 'major',
    });
    expect(result.success).toBe(false);
    if (!result.success)
      expect(formatIssues(result.error)).toBe('clear: must be >= value (5) with op "below"');
  });

  it('takes unknownPaceMs only with cadenceMultiple, never below silenceMs', () => {
    const paced = { id: 'a', kind: 'nodata', cadenceMultiple: 3, severity: 'minor' } as const;
    const issues = (input: object) => {
      const result = AlertRuleSchema.safeParse(input);
      return result.success ? null : formatIssues(result.error);
    };
    expect(issues({ ...paced, silenceMs: 10_000, unknownPaceMs: 10_000 })).toBeNull();
    expect(issues({ ...paced, unknownPaceMs: 600_000 })).toBeNull();
    expect(issues({ ...paced, silenceMs: 10_000, unknownPaceMs: 9_999 })).toBe(
      'unknownPaceMs: must be >= silenceMs (10000)',
    );
    expect(
      issues({
        id: 'a',
        kind: 'nodata',
        silenceMs: 5000,
        unknownPaceMs: 60_000,
        severity: 'minor',
      }),
    ).toBe('unknownPaceMs: only used with cadenceMultiple');
    expect(issues({ ...paced, unknownPaceMs: 0 })).toMatch(/^unknownPaceMs: /);
  });

  it('lists severities most severe first', () => {
    expect(ALERT_SEVERITIES).toEqual(['critical', 'major', 'minor', 'warning', 'info']);
  });
});

describe('AlertQuerySchema', () => {
  it('coerces query strings and defaults the limit', () => {
    expect(
      AlertQuerySchema.parse({
        deviceId: 'sim-001',
        severity: 'major',
        state: 'cleared',
        from: '1000',
        to: '2000',
      }),
    ).toEqual({
      deviceId: 'sim-001',
      severity: 'major',
      state: 'cleared',
      from: 1000,
      to: 2000,
      limit: 100,
    });
  });

  it.each([
    { severity: 'high' },
    { state: 'open' },
    { limit: '0' },
    { limit: '5000' },
    { from: 'yesterday' },
    { deviceId: 'a b' },
    { extra: '1' },
  ])('rejects %j', (query) => {
    expect(AlertQuerySchema.safeParse(query).success).toBe(false);
  });
});

describe('AckRequestSchema', () => {
  it('takes an optional note; a legacy `by` is optional but still bounded', () => {
    expect(AckRequestSchema.parse({ by: ' alice ', note: 'on it' })).toEqual({
      by: 'alice',
      note: 'on it',
    });
    expect(AckRequestSchema.safeParse({ by: '   ' }).success).toBe(false);
    expect(AckRequestSchema.safeParse({ by: 'x'.repeat(65) }).success).toBe(false);
    // Who acknowledges is the signed-in user: an empty body is a valid acknowledgement.
    expect(AckRequestSchema.parse({})).toEqual({});
    expect(AckRequestSchema.safeParse({ note: 'x'.repeat(10_000) }).success).toBe(false);
    expect(AckRequestSchema.safeParse({ who: 'alice' }).success).toBe(false);
    expect(LiveAckRequestSchema.parse({ id: 'al-1', by: 'bob' })).toEqual({
      id: 'al-1',
      by: 'bob',
    });
    expect(LiveAckRequestSchema.safeParse({ by: 'bob' }).success).toBe(false);
  });
});

describe('alerts versions', () => {
  it('read back what they format', () => {
    const version = { boot: 'k3J_x-9', n: 41 };
    expect(parseAlertsVersion(formatAlertsVersion(version))).toEqual(version);
  });

  it.each([
    ['no dot', 'abc41'],
    ['no count', 'abc.'],
    ['a negative count', 'abc.-1'],
    ['a count past 15 digits', `abc.${'9'.repeat(16)}`],
    ['a boot id past 32 characters', `${'a'.repeat(33)}.1`],
    ['a space', 'ab c.1'],
    ['a number', 41],
    ['nothing', undefined],
  ])('are refused with %s', (_why, text) => {
    expect(parseAlertsVersion(text)).toBeNull();
  });
});

/** An acknowledged threshold alert as a gateway sends it, every field set. */
const acknowledged: AlertEvent = {
  id: 'al-m1x2-3',
  ruleId: 'hot',
  kind: 'threshold',
  deviceId: 'boiler-1',
  metric: 't',
  severity: 'major',
  state: 'acknowledged',
  message: 'hot: t 80 above 50',
  value: 80,
  raisedAt: 1_700_000_000_000,
  acknowledgedAt: 1_700_000_001_000,
  acknowledgedBy: 'ops',
  clearedAt: null,
  ruleName: 'hot',
  threshold: 50,
  updatedAt: 1_700_000_001_000,
  flapping: false,
  count: 2,
  active: true,
  ackNote: 'on it',
};

describe('parseAlertEvent (another gateway\u2019s alert event)', () => {
  const event = acknowledged;

  it('takes a whole event, and an offline one with its nulls', () => {
    expect(parseAlertEvent(event)).toEqual({ ok: true, alert: event });
    const offline = { ...event, kind: 'offline', metric: null, value: null, threshold: null };
    expect(parseAlertEvent(offline)).toEqual({ ok: true, alert: offline });
  });

  it('reads a field an older sender leaves out as `absent` says, checked like a sent one', () => {
    const older: Partial<AlertEvent> = { ...event };
    delete older.kind;
    expect(parseAlertEvent(older)).toEqual({ ok: false, field: 'kind' });
    expect(parseAlertEvent(older, { kind: 'threshold' })).toEqual({ ok: true, alert: event });
    expect(parseAlertEvent(older, { kind: 'magic' as AlertEvent['kind'] })).toEqual({
      ok: false,
      field: 'kind',
    });
    // Sent, the sender's value counts.
    expect(parseAlertEvent({ ...event, kind: 'rate' }, { kind: 'threshold' })).toMatchObject({
      ok: true,
      alert: { kind: 'rate' },
    });
  });

  it('leaves out a field the contract does not name (a newer sender\u2019s), whatever it holds', () => {
    const result = parseAlertEvent({ ...event, extra: 'x'.repeat(100_000) });
    expect(result).toEqual({ ok: true, alert: event });
  });

  it.each([
    ['id', { id: undefined }],
    ['id', { id: '' }],
    ['id', { id: 'a'.repeat(129) }],
    ['ruleId', { ruleId: 'a/b' }],
    ['kind', { kind: 'magic' }],
    ['deviceId', { deviceId: 42 }],
    ['metric', { metric: 'm'.repeat(65) }],
    ['severity', { severity: 'bad' }],
    ['state', { state: 'open' }],
    ['message', { message: 'x'.repeat(1025) }],
    ['value', { value: 'NaN' }],
    ['raisedAt', { raisedAt: -1 }],
    ['acknowledgedAt', { acknowledgedAt: Number.POSITIVE_INFINITY }],
    ['acknowledgedBy', { acknowledgedBy: 'x'.repeat(65) }],
    ['clearedAt', { clearedAt: '2026-12-07' }],
    ['ruleName', { ruleName: '' }],
    ['threshold', { threshold: {} }],
    ['updatedAt', { updatedAt: null }],
    ['flapping', { flapping: 'no' }],
    ['count', { count: 0 }],
    ['count', { count: 1.5 }],
    ['active', { active: 1 }],
    ['ackNote', { ackNote: 'x'.repeat(501) }],
  ] as const)('refuses a wrong %s, naming it', (field, patch) => {
    expect(parseAlertEvent({ ...event, ...patch })).toEqual({ ok: false, field });
  });

  it.each([
    ['nothing', undefined],
    ['null', null],
    ['a string', 'alert'],
    ['an array', [event]],
  ])('refuses %s', (_what, value) => {
    expect(parseAlertEvent(value)).toEqual({ ok: false, field: null });
  });
});

describe('parseAckResponse (another gateway\u2019s answer to an ack)', () => {
  const alert: AlertEvent = { ...acknowledged, ackNote: null };

  it('takes an acknowledged alert and a refusal, leaving out fields the contract does not name', () => {
    expect(parseAckResponse({ ok: true, alert: { ...alert, extra: 1 }, extra: 2 })).toEqual({
      ok: true,
      response: { ok: true, alert },
    });
    const refusal = { ok: false, error: 'already_acknowledged', message: 'acknowledged by ops' };
    expect(parseAckResponse({ ...refusal, extra: 2 })).toEqual({ ok: true, response: refusal });
  });

  it.each([
    [null, 'not an ack'],
    ['ok', { ok: 'yes', alert }],
    ['alert', { ok: true }],
    ['alert.ruleId', { ok: true, alert: { id: 'al-1' } }],
    ['alert.message', { ok: true, alert: { ...alert, message: 'x'.repeat(1025) } }],
    ['error', { ok: false, error: 'exploded', message: '' }],
    ['message', { ok: false, error: 'not_found', message: 42 }],
    ['message', { ok: false, error: 'invalid', message: 'x'.repeat(1025) }],
  ] as const)('refuses a wrong %s, naming it', (field, value) => {
    expect(parseAckResponse(value)).toEqual({ ok: false, field });
  });
});

describe('parseAlertEventOfAnyBuild (an event of a gateway built before `kind`)', () => {
  const base = acknowledged; // `hot: t 80 above 50`, as its rule `hot` words it

  const older = (event: AlertEvent): Partial<AlertEvent> => {
    const copy: Partial<AlertEvent> = { ...event };
    delete copy.kind;
    return copy;
  };

  it.each<[string, Partial<AlertEvent>]>([
    ['threshold', {}],
    ['rate', { message: 'hot: t changed by 12 in 1 min' }],
    // A no-data rule on one metric: its fields look like a threshold's, its words do not.
    ['nodata', { message: 'Quiet: no t for 10 min', ruleName: 'Quiet', value: 600_000 }],
    [
      'offline',
      {
        metric: null,
        value: null,
        threshold: null,
        ruleName: 'Gone',
        message: 'Gone: device offline',
      },
    ],
  ])('reads a %s alert by its words', (kind, patch) => {
    const event = { ...base, ...patch, kind } as AlertEvent;
    expect(parseAlertEventOfAnyBuild(older(event))).toEqual({ ok: true, alert: event });
  });

  it('falls back to its fields when its words are not the gateway’s, and takes a sent kind as it is', () => {
    const odd = { ...base, message: 'something else' };
    expect(parseAlertEventOfAnyBuild(older(odd))).toEqual({ ok: true, alert: odd });
    const rate = { ...base, kind: 'rate' as const };
    expect(parseAlertEventOfAnyBuild(rate)).toEqual({ ok: true, alert: rate });
    expect(parseAlertEventOfAnyBuild({ ...base, kind: 'magic' })).toEqual({
      ok: false,
      field: 'kind',
    });
    expect(parseAlertEventOfAnyBuild({ ...older(base), count: 0 })).toEqual({
      ok: false,
      field: 'count',
    });
  });
});
