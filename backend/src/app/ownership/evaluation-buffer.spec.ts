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
    const buffer = new EvaluationBuffer(0, 3);
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
});
