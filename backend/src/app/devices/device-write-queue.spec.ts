import { DeviceWriteQueue, QueuedRecord } from './device-write-queue';

describe('DeviceWriteQueue', () => {
  const record = (deviceId: string): QueuedRecord => ({ deviceId, persist: 0 });
  const ids = (records: QueuedRecord[]) => records.map((r) => r.deviceId);
  let sut: DeviceWriteQueue<QueuedRecord>;
  beforeEach(() => (sut = new DeviceWriteQueue()));

  it('writes a status or meta change before devices that only spoke, each device once', () => {
    const [a, b, c] = [record('a'), record('b'), record('c')];
    sut.seenNow(a);
    sut.seenNow(b);
    sut.seenNow(a);
    sut.changedNow(c);
    sut.changedNow(b);
    expect(ids(sut.take(2).records)).toEqual(['c', 'b']);
    expect(ids(sut.take(2).records)).toEqual(['a']);
    expect(sut.empty).toBe(true);
  });

  it('queues a device again when it changes while its write is under way', () => {
    const a = record('a');
    sut.changedNow(a);
    const batch = sut.take(10);
    sut.seenNow(a);
    expect(batch.records).toEqual([a]);
    expect(sut.take(10).records).toEqual([a]);
  });

  it('puts a failed batch back, as changed, unless the device was evicted since', () => {
    const [a, b] = [record('a'), record('b')];
    sut.seenNow(a);
    sut.seenNow(b);
    const batch = sut.take(10);
    sut.putBack(
      batch,
      (r) => r !== b,
      () => true,
    );
    expect(sut.take(10).records).toEqual([a]);
    expect(a.persist).toBe(0);
  });

  it('deletes an evicted device, unless it came back before the write', () => {
    const a = record('a');
    sut.changedNow(a);
    sut.removedNow(a);
    expect(sut.take(10)).toEqual({ records: [], removed: ['a'] });
    sut.removedNow(a);
    const back = record('a');
    sut.changedNow(back);
    expect(sut.take(10)).toEqual({ records: [back], removed: [] });
  });
});
