import { RateLimitedLog } from './rate-limited-log';

describe('RateLimitedLog', () => {
  it('writes one line per key per interval and counts the suppressed ones', () => {
    let now = 0;
    const lines: string[] = [];
    const sut = new RateLimitedLog(
      (line) => lines.push(line),
      10_000,
      () => now,
    );
    sut.report('json', 'bad 1');
    sut.report('json', 'bad 2');
    sut.report('json', 'bad 3');
    sut.report('value', 'nan 1');
    now = 10_000;
    sut.report('json', 'bad 4');
    sut.report('json', 'bad 5');
    expect(lines).toEqual(['bad 1', 'nan 1', 'bad 4 (+2 more "json" in the last 10 s)']);
  });
});
