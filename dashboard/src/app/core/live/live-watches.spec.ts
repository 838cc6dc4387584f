import { RESUBSCRIBE_OVERLAP_MS } from '@pulse/protocol/core';
import { LONG_GAP_MS, LiveWatches, WatchSpec, targets } from './live-watches';

const at = (deviceId: string, ts: number) => ({ deviceId, ts, values: { v: 1 } });

describe('LiveWatches', () => {
  it('shares identical specs and forgets a watch with its last reference', () => {
    const sut = new LiveWatches();
    const first = sut.acquire({ devices: ['a'], historyMs: 0, maxPoints: 10 });
    const second = sut.acquire({ devices: ['a'], historyMs: 0, maxPoints: 10 });
    expect([first.created, second.created]).toEqual([true, false]);
    expect(second.watch).toBe(first.watch);
    let unpinned = 0;
    first.watch.unpins.push(() => unpinned++);
    expect(sut.release(first.watch)).toBe(false);
    expect(sut.release(first.watch)).toBe(true);
    expect([sut.size, unpinned]).toEqual([0, 1]);
  });

  it('asks for the spec window first, then from the newest point held less the overlap', () => {
    const sut = new LiveWatches();
    const spec: WatchSpec = { devices: ['a'], historyMs: 60_000, maxPoints: 100 };
    const { watch } = sut.acquire(spec);
    expect(sut.request(watch, 100_000)).toEqual({
      devices: ['a'],
      since: 40_000,
      maxPoints: 100,
      history: true,
      timeDeltas: true,
    });
    // Readings do not move it while the history asked is not merged: a retry asks the same.
    sut.noteAsked(watch);
    sut.noteReadings([at('a', 96_000)], () => null, 96_000);
    expect(sut.request(watch, 100_000).since).toBe(40_000);
    sut.noteMerged(watch, 90_000);
    sut.noteHeld(watch, 'a', 90_000);
    sut.noteHeld(watch, 'a', 80_000); // older history does not move it back
    expect(sut.request(watch, 100_000).since).toBe(90_000 - RESUBSCRIBE_OVERLAP_MS);
    expect(sut.heldSince(spec)).toBe(90_000);
  });

  it('resumes a device list from the device furthest behind: a late clock loses nothing', () => {
    const sut = new LiveWatches();
    const { watch } = sut.acquire({ devices: ['a', 'b'], historyMs: 300_000, maxPoints: 100 });
    // Both arrive at 100 s; b stamps its readings 10 s behind the server's clock.
    sut.noteReadings([at('a', 100_000), at('b', 90_000)], () => null, 100_000);
    expect(sut.request(watch, 101_000).since).toBe(90_000 - RESUBSCRIBE_OVERLAP_MS);
    // b's next reading, stamped 90.5 s, reaches the gateway during an outage: asked for.
    sut.noteReadings([at('a', 101_000), at('b', 91_000)], () => null, 101_000);
    expect(sut.request(watch, 120_000).since).toBe(91_000 - RESUBSCRIBE_OVERLAP_MS);
    expect(sut.heldSince(watch.spec)).toBe(101_000);
  });

  it('resumes a device that sends a minute of readings at once from before its next minute', () => {
    const sut = new LiveWatches();
    const { watch } = sut.acquire({ devices: ['a', 'b'], historyMs: 300_000, maxPoints: 100 });
    // a uploads 100..160 s at 160.05 s; b speaks every second up to 210 s.
    const minute = Array.from({ length: 61 }, (_, i) => at('a', 100_000 + i * 1000));
    sut.noteReadings(minute, () => null, 160_050);
    for (let ts = 161_000; ts <= 210_000; ts += 1000)
      sut.noteReadings([at('b', ts)], () => null, ts);
    // The connection drops at 210 s: a's next minute (160..220 s) comes during it, all asked for.
    expect(sut.request(watch, 215_000).since).toBe(160_000 - RESUBSCRIBE_OVERLAP_MS);
  });

  it('reads a board over HTTP again when one of its devices is far behind, not a window on the socket', () => {
    const sut = new LiveWatches();
    const { watch } = sut.acquire({
      devices: ['a', 'late'],
      historyMs: 300_000,
      maxPoints: 100,
      windowOverHttp: true,
    });
    sut.noteReadings([at('a', 200_000), at('late', 110_000)], () => null, 200_000);
    expect(sut.windowOverHttp(watch, 201_000)).toEqual(['a', 'late']);
    const near = sut.acquire({
      devices: ['a', 'near'],
      historyMs: 300_000,
      maxPoints: 100,
      windowOverHttp: true,
    }).watch;
    sut.noteReadings([at('a', 200_000), at('near', 190_000)], () => null, 200_000);
    expect(sut.windowOverHttp(near, 201_000)).toBeNull();
  });

  it('resumes a silent device from the last note, not from its last point minutes ago', () => {
    const sut = new LiveWatches();
    const { watch } = sut.acquire({ devices: ['a', 'quiet'], historyMs: 300_000, maxPoints: 100 });
    sut.noteMerged(watch, 100_000);
    sut.noteHeld(watch, 'quiet', 20_000); // its window's last point, 80 s before
    sut.noteHeld(watch, 'a', 99_900);
    sut.noteReadings([at('a', 101_000)], () => null, 101_050);
    // What quiet sends next is stamped after now: the refill is the outage, not 80 s of a.
    expect(sut.request(watch, 110_000).since).toBe(101_000 - RESUBSCRIBE_OVERLAP_MS);
  });

  it('never asks for history from before its window', () => {
    const sut = new LiveWatches();
    const { watch } = sut.acquire({ devices: ['a'], historyMs: 60_000, maxPoints: 100 });
    sut.noteReadings([at('a', 10_000)], () => null, 10_000);
    expect(sut.request(watch, 500_000).since).toBe(440_000);
  });

  it('reads over HTTP the window of a device list that asks for it, holding no point yet or after a long stretch, nothing else', () => {
    const sut = new LiveWatches();
    const page = { historyMs: 60_000, maxPoints: 100, windowOverHttp: true };
    const one = (spec: WatchSpec) => sut.windowOverHttp(sut.acquire(spec).watch, 100_000);
    expect(one({ ...page, devices: ['a'] })).toEqual(['a']);
    expect(one({ ...page, devices: ['a', 'b'] })).toEqual(['a', 'b']); // a wall board
    expect(one({ ...page, fleet: true })).toBeNull();
    expect(one({ ...page, groups: ['hall'] })).toBeNull();
    expect(one({ ...page, devices: ['g'], groups: ['hall'] })).toBeNull();
    expect(one({ ...page, devices: ['c'], historyMs: 0 })).toBeNull();
    // A watch that does not ask for it gets its window in the subscribe.
    expect(one({ devices: ['d'], historyMs: 60_000, maxPoints: 100 })).toBeNull();
    // Holding points, a re-subscribe asks from the newest in the subscribe, unless it is old.
    const { watch } = sut.acquire({ ...page, devices: ['e'] });
    sut.noteHeld(watch, 'e', 90_000);
    expect(sut.windowOverHttp(watch, 100_000)).toBeNull();
    expect(sut.windowOverHttp(watch, 90_000 + LONG_GAP_MS + 1)).toEqual(['e']);
    // Beside the read, the subscribe asks for the newest point of the range.
    expect(sut.recentRequest(sut.acquire({ ...page, devices: ['f'] }).watch, 100_000)).toEqual({
      devices: ['f'],
      since: 40_000,
      maxPoints: 1,
      history: true,
      timeDeltas: true,
    });
  });

  it('advances only the watches that cover a reading (devices, groups, fleet)', () => {
    const sut = new LiveWatches();
    const byDevice = sut.acquire({ devices: ['a'], historyMs: 0, maxPoints: 1 }).watch;
    const byGroup = sut.acquire({ groups: ['hall'], historyMs: 0, maxPoints: 1 }).watch;
    const fleet = sut.acquire({ fleet: true, historyMs: 0, maxPoints: 1 }).watch;
    sut.noteReadings([at('b', 5), at('a', 3)], (id) => (id === 'b' ? 'hall' : null), 10);
    expect([byDevice.lastTs, byGroup.lastTs, fleet.lastTs]).toEqual([3, 5, 5]);
  });

  it('ignores a stale (re)subscribe once a newer one or a release happened', () => {
    const sut = new LiveWatches();
    const { watch } = sut.acquire({ fleet: true, historyMs: 0, maxPoints: 1 });
    const generation = ++watch.generation;
    expect(sut.isCurrent(watch, generation)).toBe(true);
    sut.release(watch);
    expect(sut.isCurrent(watch, generation)).toBe(false);
  });

  it('names only the rooms a spec asks for', () => {
    expect(targets({ fleet: true, devices: [], historyMs: 0, maxPoints: 1 })).toEqual({
      fleet: true,
    });
    expect(targets({ groups: ['g'], historyMs: 0, maxPoints: 1 })).toEqual({ groups: ['g'] });
  });
});
