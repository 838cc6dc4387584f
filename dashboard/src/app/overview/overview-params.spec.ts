import {
  OVERVIEW_DEFAULTS,
  SEARCH_MAX_CHARS,
  overviewQueryParams,
  parseOverviewParams,
} from './overview-params';

const parse = (query: string) => parseOverviewParams(new URLSearchParams(query));

describe('overview URL parameters', () => {
  it('reads the search, group, sort and grouping', () => {
    expect(parse('q=pump&group=hall-a&sort=metric:temperature&grouped=true')).toEqual({
      q: 'pump',
      group: 'hall-a',
      sort: 'metric:temperature',
      grouped: true,
    });
    for (const sort of ['name', 'last-seen', 'severity'] as const)
      expect(parse(`sort=${sort}`).sort).toBe(sort);
  });

  it('is the default list without parameters', () => {
    expect(parse('')).toEqual(OVERVIEW_DEFAULTS);
  });

  it.each([
    ['an unknown sort', 'sort=loudest', { sort: 'name' }],
    ['the gateway’s name of a sort', 'sort=lastSeen', { sort: 'name' }],
    ['a metric sort without a metric', 'sort=metric:', { sort: 'name' }],
    ['a metric that cannot be one', 'sort=metric:a%20b', { sort: 'name' }],
    ['a grouping that is not true', 'grouped=yes', { grouped: false }],
    ['a search longer than the gateway takes', `q=${'x'.repeat(SEARCH_MAX_CHARS + 1)}`, { q: '' }],
    ['a group name too long to be one', `group=${'g'.repeat(129)}`, { group: '' }],
  ])('reads %s as the default', (_what, query, expected) => {
    expect(parse(query)).toEqual({ ...OVERVIEW_DEFAULTS, ...expected });
  });

  it('keeps a group and a metric the fleet may not have yet', () => {
    expect(parse('group=hall-z&sort=metric:humidity')).toMatchObject({
      group: 'hall-z',
      sort: 'metric:humidity',
    });
  });

  it('writes what differs from the default, the rest left out', () => {
    expect(overviewQueryParams(OVERVIEW_DEFAULTS)).toEqual({
      q: null,
      group: null,
      sort: null,
      grouped: null,
    });
    expect(
      overviewQueryParams({ q: ' pump ', group: 'hall-a', sort: 'last-seen', grouped: true }),
    ).toEqual({ q: 'pump', group: 'hall-a', sort: 'last-seen', grouped: 'true' });
    expect(overviewQueryParams({ ...OVERVIEW_DEFAULTS, q: '   ' }).q).toBeNull();
  });

  it('reads back what it writes', () => {
    const state = { q: 'pump', group: 'hall a', sort: 'metric:temp' as const, grouped: true };
    const written = overviewQueryParams(state);
    const query = new URLSearchParams(
      Object.entries(written).flatMap(([k, v]) => (v === null ? [] : [[k, v]])),
    );
    expect(parseOverviewParams(query)).toEqual(state);
  });
});
