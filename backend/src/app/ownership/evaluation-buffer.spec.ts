import type { Reading } from '@pulse/protocol';
import { EvaluationBuffer } from './evaluation-buffer';

const r = (deviceId: string, ts: number): Reading => ({ deviceId, ts, values: { t: ts } });

describe('EvaluationBuffer', () => {
  it("puts the two gateways' halves of a device's stream back in time order", () => {
    const buffer = new EvaluationBuffer(200);
    const evaluated: number[] = [];
    const evaluate = (readings: Reading[]) => evaluated.push(...readings.map((x) => x.ts));
    buffer.add('d', [r('d', 2)], 0); // ingested here
    buffer.add('d', [r('d', 4)], 60);
    buffer.drain(150, () => false, evaluate);
    expect(evaluated).toEqual([]); // nothing waited 200 ms yet
    buffer.add('d', [r('d', 1), r('d', 3)], 160); // forwarded by the other gateway a tick later
    buffer.drain(200, () => false, evaluate);
    // ts 2 is due; ts 1 (older) goes with it; 3 and 4 wait for their own time.
    expect(evaluated).toEqual([1, 2]);
    buffer.drain(400, () => false, evaluate);
    expect(evaluated).toEqual([1, 2, 3, 4]);
    expect(buffer.size).toBe(0);
  });

  it('keeps a held device waiting, and drops beyond its bound (counted)', () => {
    const buffer = new EvaluationBuffer(0, { max: 3 });
    const evaluated: Reading[] = [];
    buffer.add('a', [r('a', 1), r('a', 2)], 0);
    buffer.add('b', [r('b', 1), r('b', 2)], 0);
    expect(buffer.dropped).toBe(1);
    buffer.drain(
      10,
      (id) => id === 'a',
      (readings) => evaluated.push(...readings),
    );
    expect(evaluated.map((x) => x.deviceId)).toEqual(['b']);
    buffer.drain(
      10,
      () => false,
      (readings) => evaluated.push(...readings),
    );
    expect(evaluated).toHaveLength(3);
  });

  it('keeps the other devices flowing while a hand-over holds readings for long', () => {
    // A device whose adopt keeps failing (store down) is held for minutes: its readings must
    // not take the room of devices not in hand-over (they were all dropped once it filled).
    const buffer = new EvaluationBuffer(0, { max: 10, maxHeld: 4, maxHeldPerDevice: 3 });
    const evaluated: Reading[] = [];
    const evaluate = (readings: Reading[]) => evaluated.push(...readings);
    const held = (id: string) => id === 'a' || id === 'c';
    for (let ts = 1; ts <= 20; ts++) buffer.add('a', [r('a', ts)], 0, held('a'));
    buffer.add('c', [r('c', 1), r('c', 2)], 0, held('c'));
    buffer.add('b', [r('b', 1), r('b', 2)], 0, held('b'));
    buffer.drain(10, held, evaluate);
    expect(evaluated.map((x) => x.deviceId)).toEqual(['b', 'b']);
    expect(buffer.dropped).toBe(0);
    // 'a' keeps its newest 3 (17 dropped, oldest first); 'c' gets the pool's last place.
    expect(buffer.heldDropped).toBe(17 + 1);
    expect(buffer.size).toBe(4);
    buffer.drain(20, () => false, evaluate);
    expect(evaluated.filter((x) => x.deviceId === 'a').map((x) => x.ts)).toEqual([18, 19, 20]);
    expect(evaluated.filter((x) => x.deviceId === 'c').map((x) => x.ts)).toEqual([1]);
    expect(buffer.size).toBe(0);
  });

  it('hands back the readings of devices picked (owned elsewhere now), in time order', () => {
    const buffer = new EvaluationBuffer(1_000);
    buffer.add('a', [r('a', 2), r('a', 1)], 0);
    buffer.add('a', [r('a', 3)], 0, true);
    buffer.add('b', [r('b', 1)], 0);
    const out = buffer.remove((id) => id === 'a');
    expect([...out.keys()]).toEqual(['a']);
    expect(out.get('a')?.map((x) => x.ts)).toEqual([1, 2, 3]);
    expect(buffer.size).toBe(1);
  });

  it('forgets the waiting and held readings of a device that left the registry', () => {
    const buffer = new EvaluationBuffer(0);
    const evaluated: Reading[] = [];
    buffer.add('gone', [r('gone', 1)], 0);
    buffer.add('gone', [r('gone', 2)], 0, true);
    buffer.add('kept', [r('kept', 1)], 0);
    buffer.forget('gone');
    buffer.forget('never-seen');
    expect(buffer.size).toBe(1);
    buffer.drain(
      10,
      () => false,
      (readings) => evaluated.push(...readings),
    );
    expect(evaluated.map((x) => x.deviceId)).toEqual(['kept']);
  });
});
