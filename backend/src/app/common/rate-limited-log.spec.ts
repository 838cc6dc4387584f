import { RateLimitedLog } from './rate-limited-log';

describe('RateLimitedLog', () => {
  function setup() {
    let now = 0;
    const lines: string[] = [];
    const timers: { at: number; run: () => void }[] = [];
    const sut = new RateLimitedLog(
      (line) => lines.push(line),
      10_000,
      () => now,
      (run, ms) => {
        const timer = { at: now + ms, run };
        timers.push(timer);
        return () => timers.splice(timers.indexOf(timer), 1);
      },
    );
    /** Move the clock to `t`, running the timers due by then. */
    const advanceTo = (t: number) => {
      now = t;
      for (const timer of timers.splice(0).sort((a, b) => a.at - b.at)) {
        if (timer.at <= t) timer.run();
        else timers.push(timer);
      }
    };
    return { sut, lines, advanceTo, timers };
  }

  it('writes one line per key per interval, then the held-back count when the interval ends', () => {
    const { sut, lines, advanceTo } = setup();
    sut.report('json', 'bad 1');
    sut.report('json', 'bad 2');
    sut.report('json', 'bad 3');
    sut.report('value', 'nan 1');
    expect(lines).toEqual(['bad 1', 'nan 1']);
    // Nothing more comes: the count is written all the same, with the last line held back.
    advanceTo(10_000);
    expect(lines).toEqual(['bad 1', 'nan 1', 'bad 3 (+2 more "json" in the last 10 s)']);
  });

  it('keeps to a line per interval under a steady flood', () => {
    const { sut, lines, advanceTo } = setup();
    for (let t = 0; t < 30_000; t += 100) {
      advanceTo(t);
      sut.report('json', `bad at ${t}`);
    }
    advanceTo(40_000);
    expect(lines).toEqual([
      'bad at 0',
      'bad at 9900 (+99 more "json" in the last 10 s)',
      'bad at 19900 (+100 more "json" in the last 10 s)',
      'bad at 29900 (+100 more "json" in the last 10 s)',
    ]);
  });

  it('writes the next line at once after a quiet interval', () => {
    const { sut, lines, advanceTo, timers } = setup();
    sut.report('json', 'bad 1');
    advanceTo(25_000);
    sut.report('json', 'bad 2');
    expect(lines).toEqual(['bad 1', 'bad 2']);
    expect(timers).toEqual([]);
  });

  it('on close writes the held-back counts at once and leaves no timer to write after its owner stopped', () => {
    const { sut, lines, advanceTo, timers } = setup();
    sut.report('publisher', 'down 1');
    sut.report('publisher', 'down 2');
    sut.report('publisher', 'down 3');
    expect(lines).toEqual(['down 1']);
    sut.close();
    expect(lines).toEqual(['down 1', 'down 3 (+2 more "publisher" in the last 10 s)']);
    expect(timers).toEqual([]);
    // A client erroring while it closes: still limited, never summarised by a timer later.
    sut.report('publisher', 'down 4');
    expect(timers).toEqual([]);
    advanceTo(30_000);
    expect(lines).toEqual(['down 1', 'down 3 (+2 more "publisher" in the last 10 s)']);
  });
});
