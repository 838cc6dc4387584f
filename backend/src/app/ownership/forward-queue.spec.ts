import type { Reading } from '@pulse/protocol';
import { ForwardQueue, MAX_FORWARD_BATCH, parseForward } from './forward-queue';

const T = 1_800_000_000_000;
const r = (deviceId: string, i: number): Reading => ({ deviceId, ts: T + i, values: { t: 1 } });

describe('ForwardQueue', () => {
  it('batches per owner and hop, splits big ticks, drops beyond its bound (counted)', () => {
    const queue = new ForwardQueue(MAX_FORWARD_BATCH + 10);
    queue.add(
      'gw-b',
      Array.from({ length: MAX_FORWARD_BATCH + 5 }, (_, i) => r('d', i)),
    );
    queue.add('gw-c', [r('e', 1)], true);
    queue.add(
      'gw-c',
      Array.from({ length: 10 }, (_, i) => r('e', i)),
    );
    expect(queue.dropped).toBe(6);
    const out = queue.take('gw-a');
    expect(out.map(({ owner, message }) => [owner, message.h, message.r.length])).toEqual([
      ['gw-b', 0, MAX_FORWARD_BATCH],
      ['gw-b', 0, 5],
      ['gw-c', 0, 4],
      ['gw-c', 1, 1],
    ]);
    expect(queue.size).toBe(0);
    // The wire form round-trips; a foreign or broken message is refused, bad readings skipped.
    const raw = Buffer.from(JSON.stringify(out[3].message));
    expect(parseForward(raw, T + 60_000)).toEqual({ message: out[3].message, refused: 0 });
    expect(parseForward(Buffer.from('{"v":2,"g":"x","r":[]}'), T)).toBe('another format version');
    expect(parseForward(Buffer.from('nope'), T)).toBe('not JSON');
    const mixed = { v: 1, g: 'x', h: 0, r: [r('d', 1), { deviceId: 3 }, r('d', 120_000)] };
    // The last is stamped later than the latest time allowed.
    expect(parseForward(Buffer.from(JSON.stringify(mixed)), T + 60_000)).toEqual({
      message: { v: 1, g: 'x', h: 0, r: [r('d', 1)] },
      refused: 2,
    });
  });
});
