import {
  ALERTS_DEFAULTS,
  DEVICE_FILTER_MAX_CHARS,
  OPEN_MAX,
  alertsQueryParams,
  parseAlertsParams,
} from './alerts-params';

const parse = (query: string) => parseAlertsParams(new URLSearchParams(query));

describe('alerts page URL parameters', () => {
  it('reads the tab, device, severity, state, acknowledgement, sort and grouping', () => {
    expect(
      parse(
        'tab=history&device=Boiler%203&severity=major&state=flapping&ack=unacknowledged&sort=newest&grouped=true&open=co2-high,r7',
      ),
    ).toEqual({
      tab: 'history',
      device: 'Boiler 3',
      severity: 'major',
      state: 'flapping',
      ack: 'unacknowledged',
      sort: 'newest',
      grouped: true,
      open: ['co2-high', 'r7'],
    });
    expect(parse('sort=device&ack=acknowledged')).toMatchObject({
      sort: 'device',
      ack: 'acknowledged',
    });
  });

  it('is the default view without parameters', () => {
    expect(parse('')).toEqual(ALERTS_DEFAULTS);
  });

  it.each([
    ['a tab it does not have', 'tab=archive', { tab: 'active' }],
    ['an unknown severity', 'severity=loud', { severity: '' }],
    ['a severity in capitals', 'severity=Critical', { severity: '' }],
    ['an unknown state', 'state=open', { state: '' }],
    ['an unknown acknowledgement', 'ack=yes', { ack: '' }],
    ['an unknown sort', 'sort=oldest', { sort: 'severity' }],
    ['a grouping that is not true', 'grouped=1', { grouped: false }],
    [
      'a device text longer than a name can be',
      `device=${'d'.repeat(DEVICE_FILTER_MAX_CHARS + 1)}`,
      { device: '' },
    ],
  ])('reads %s as the default', (_what, query, expected) => {
    expect(parse(query)).toEqual({ ...ALERTS_DEFAULTS, ...expected });
  });

  it('keeps the open rules that can be rule ids, each once, at most OPEN_MAX', () => {
    expect(parse('open=a,,b%20c,a,r.1,').open).toEqual(['a', 'r.1']);
    const many = Array.from({ length: OPEN_MAX + 5 }, (_, i) => `r${i}`);
    expect(parse(`open=${many.join(',')}`).open).toEqual(many.slice(0, OPEN_MAX));
  });

  it('writes what differs from the default, the rest left out', () => {
    expect(alertsQueryParams(ALERTS_DEFAULTS)).toEqual({
      tab: null,
      device: null,
      severity: null,
      state: null,
      ack: null,
      sort: null,
      grouped: null,
      open: null,
    });
    expect(
      alertsQueryParams({
        tab: 'history',
        device: ' d1 ',
        severity: 'critical',
        state: 'raised',
        ack: 'acknowledged',
        sort: 'device',
        grouped: true,
        open: ['r7', 'co2-high'],
      }),
    ).toEqual({
      tab: 'history',
      device: 'd1',
      severity: 'critical',
      state: 'raised',
      ack: 'acknowledged',
      sort: 'device',
      grouped: 'true',
      open: 'co2-high,r7',
    });
    expect(alertsQueryParams({ ...ALERTS_DEFAULTS, device: '   ' }).device).toBeNull();
    // Not grouped: no headings to open.
    expect(alertsQueryParams({ ...ALERTS_DEFAULTS, open: ['r7'] }).open).toBeNull();
  });

  it('reads back what it writes', () => {
    const state = {
      tab: 'history',
      device: 'Boiler 3',
      severity: 'minor',
      state: 'cleared',
      ack: 'unacknowledged',
      sort: 'newest',
      grouped: true,
      open: ['co2-high', 'r7'],
    } as const;
    const query = new URLSearchParams(
      Object.entries(alertsQueryParams(state)).flatMap(([k, v]) => (v === null ? [] : [[k, v]])),
    );
    expect(parseAlertsParams(query)).toEqual(state);
  });
});
