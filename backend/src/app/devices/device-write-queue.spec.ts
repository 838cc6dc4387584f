import { DeviceWriteQueue, QueuedRecord } from './device-write-queue';

describe('DeviceWriteQueue', () => {
  const record = (deviceId: string): QueuedRecord => ({ deviceId, persist: 0 });
  let sut: DeviceWriteQueue<QueuedRecord>;
  beforeEach(() => (sut = new DeviceWriteQueue()));

  it('writes a status or meta change before devices that only spoke, each device once', () => {
    const [a, b, c] = [record('a'), record('b'), record('c')];
    sut.seenNow(a);
    sut.seenNow(b);
    sut.seenNow(a);
    sut.changedNow(c);
    sut.changedNow(b);
    expect(sut.next(10).records.map((r) => r.deviceId)).toEqual(['c', 'b', 'a']);
    expect(sut.next(2).records.map((r) => r.deviceId)).toEqual(['c', 'b']);
  });

  it('is empty once a batch is written, until a device changes again', () => {
    const a = record('a');
    sut.changedNow(a);
    sut.written(sut.next(10));
    expect(sut.empty).toBe(true);
    sut.seenNow(a);
    expect(sut.next(10).records).toEqual([a]);
  });

  it('deletes an evicted device, unless it came back before the write', () => {
    const a = record('a');
    sut.changedNow(a);
    sut.removedNow(a);
    expect(sut.next(10)).toEqual({ records: [], removed: ['a'] });
    const back = record('a');
    sut.changedNow(back);
    expect(sut.next(10)).toEqual({ records: [back], removed: [] });
  });
});
