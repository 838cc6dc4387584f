import {
  PRESUBSCRIBE_MS,
  boardIndex,
  boardsToWatch,
  pageBoards,
  parseDuration,
  parseWallParams,
  WALL_DEFAULTS,
} from './wall-params';

const parse = (query: string) => parseWallParams(new URLSearchParams(query));

describe('wall URL parameters', () => {
  it('defaults to every device, dark, 5 minute window, 10 s stale, no rotation', () => {
    const config = parse('');
    expect(config).toEqual({ ...WALL_DEFAULTS, errors: [] });
    expect(config.theme).toBe('dark');
  });

  it('reads devices, metrics, window, cols, rotate, stale and theme', () => {
    const config = parse(
      'devices=a,b&metrics=temperature,power&window=15m&cols=4&rotate=30&stale=20&theme=light',
    );
    expect(config).toMatchObject({
      boards: [['a', 'b']],
      metrics: ['temperature', 'power'],
      windowMs: 15 * 60_000,
      cols: 4,
      rotateMs: 30_000,
      staleMs: 20_000,
      theme: 'light',
      errors: [],
    });
  });

  it('reads how long a loud banner covers the top before it folds, or never', () => {
    expect(WALL_DEFAULTS.foldMs).toBe(60_000);
    expect(parse('fold=120').foldMs).toBe(120_000);
    expect(parse('fold=never').foldMs).toBeNull();
    for (const bad of ['0', '1.5', 'soon', '86401', '0x3c', '1e2']) {
      const config = parse(`fold=${bad}`);
      expect(config.foldMs).toBe(60_000);
      expect(config.errors).toEqual([
        `fold: "${bad}" must be a whole number from 1 to 86400, or never`,
      ]);
    }
  });

  it('splits boards on semicolons and devices on commas', () => {
    expect(parse('boards=a,b;c,d;;e').boards).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('accepts a group and a page size for fleet-derived boards', () => {
    expect(parse('group=hall-a&size=6')).toMatchObject({ group: 'hall-a', size: 6, boards: [] });
  });

  it('parses durations with and without units', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('5m')).toBe(300_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('300')).toBe(300_000);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('soon')).toBeNull();
  });

  it('falls back to defaults and lists every bad value without throwing', () => {
    const config = parse(
      'devices=ok,bad/id&window=2d&cols=0&rotate=-1&stale=x&theme=pink&group=a%20b',
    );
    expect(config.boards).toEqual([['ok']]);
    expect(config.windowMs).toBe(WALL_DEFAULTS.windowMs);
    expect(config.cols).toBe(0);
    expect(config.rotateMs).toBe(0);
    expect(config.staleMs).toBe(10_000);
    expect(config.theme).toBe('dark');
    expect(config.group).toBeNull();
    expect(config.errors).toHaveLength(7);
    expect(config.errors.join('\n')).toContain('bad/id');
  });

  it('ignores devices when boards is given', () => {
    const config = parse('boards=a;b&devices=c');
    expect(config.boards).toEqual([['a'], ['b']]);
    expect(config.errors).toEqual(['devices: ignored because boards is set']);
  });

  it('rotates boards by the clock', () => {
    expect(boardIndex(3, 30_000, 0)).toBe(0);
    expect(boardIndex(3, 30_000, 30_000)).toBe(1);
    expect(boardIndex(3, 30_000, 95_000)).toBe(0);
    expect(boardIndex(3, 0, 95_000)).toBe(0);
    expect(boardIndex(1, 30_000, 95_000)).toBe(0);
  });

  it('pages a device list into boards', () => {
    expect(pageBoards(['a', 'b', 'c', 'd', 'e'], 2)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(pageBoards(['a', 'b'], 0)).toEqual([['a', 'b']]);
    expect(pageBoards([], 3)).toEqual([]);
  });

  it('reads the heat-map view and its colouring metric', () => {
    expect(parse('view=heatmap&metric=temperature&group=hall-a&stale=30')).toMatchObject({
      view: 'heatmap',
      metric: 'temperature',
      group: 'hall-a',
      staleMs: 30_000,
      errors: [],
    });
    expect(parse('view=tiles')).toMatchObject({ view: 'tiles', metric: null, errors: [] });
  });

  it('lists a bad view or metric and falls back to tiles coloured by status', () => {
    const config = parse('view=map&metric=bad/name');
    expect(config.view).toBe('tiles');
    expect(config.metric).toBeNull();
    expect(config.errors).toEqual([
      'view: "map" must be tiles or heatmap',
      'metric: "bad/name" is not a valid metric name',
    ]);
    const unused = parse('metric=temperature');
    expect(unused.metric).toBeNull();
    expect(unused.errors).toEqual(['metric: only used by view=heatmap']);
  });

  it('holds the board on screen, and the next one in the last seconds before it rotates in', () => {
    expect(boardsToWatch(0, 15_000, 0)).toEqual([]);
    expect(boardsToWatch(1, 15_000, 14_000)).toEqual([0]);
    expect(boardsToWatch(3, 0, 14_000)).toEqual([0]);
    expect(boardsToWatch(3, 15_000, 1_000)).toEqual([0]);
    expect(boardsToWatch(3, 15_000, 15_000 - PRESUBSCRIBE_MS)).toEqual([0, 1]);
    expect(boardsToWatch(3, 15_000, 44_000)).toEqual([2, 0]);
    // A 4 s rotation leads by 2 s, not 5: it does not hold both boards all the time.
    expect(boardsToWatch(2, 4_000, 1_000)).toEqual([0]);
    expect(boardsToWatch(2, 4_000, 2_000)).toEqual([0, 1]);
  });
});
