import { DeviceRegistryService, MAX_METRICS_PER_DEVICE } from './device-registry.service';

describe('DeviceRegistryService', () => {
  const reading = (ts: number, values: Record<string, number>) => ({
    deviceId: 'd1',
    ts,
    values,
  });
  let sut: DeviceRegistryService;

  beforeEach(() => {
    sut = new DeviceRegistryService({ MAX_DEVICES: 2 });
  });

  it('reports a change for a new device and a new metric, not for every reading', () => {
    expect(sut.applyReadings('d1', [reading(100, { a: 1 })], 1000)).toMatchObject({
      deviceId: 'd1',
      status: 'unknown',
      lastSeen: 1000,
      lastTs: 100,
      metrics: ['a'],
    });
    expect(sut.applyReadings('d1', [reading(200, { a: 2 })], 2000)).toBeNull();
    expect(sut.applyReadings('d1', [reading(150, { a: 2, b: 1 })], 3000)).toMatchObject({
      metrics: ['a', 'b'],
      lastTs: 200,
    });
    expect(sut.get('d1')).toMatchObject({ lastSeen: 3000, lastTs: 200 });
  });

  it('learns the pace a device reports at, a report of several messages counting once', () => {
    expect(sut.paceOf('d1')).toBeNull();
    // Tasmota: STATE then SENSOR a few ms apart, every 300 s.
    for (let i = 0; i < 4; i++) {
      const at = 1_000_000 + i * 300_000;
      sut.applyReadings('d1', [reading(at, { power: 45 })], at);
      sut.applyReadings('d1', [reading(at + 4, { energy: 12 })], at + 4);
    }
    expect(sut.paceOf('d1')).toBeCloseTo(300_000, -2); // within 50 ms
    // Not what clients are told of the device.
    expect(sut.get('d1')).not.toHaveProperty('cadenceMs');
  });

  it('tracks status from retained status and Last Will, counting online devices', () => {
    expect(sut.applyStatus('d1', 'online', 1)).toMatchObject({
      status: 'online',
    });
    expect(sut.applyStatus('d1', 'online', 2)).toBeNull();
    expect(sut.stats().online).toBe(1);
    expect(sut.applyStatus('d1', 'offline', 3)).toMatchObject({
      status: 'offline',
    });
    expect(sut.stats().online).toBe(0);
  });

  it('indexes devices by the group in their meta and reports meta changes once', () => {
    expect(sut.applyMeta('d1', { group: 'g1', name: 'One' }, 1)).toMatchObject({
      meta: { group: 'g1' },
    });
    expect(sut.applyMeta('d1', { group: 'g1', name: 'One' }, 2)).toBeNull();
    expect(sut.inGroup('g1').map((d) => d.deviceId)).toEqual(['d1']);
    expect(sut.groupOf('d1')).toBe('g1');
    sut.applyMeta('d1', { group: 'g2' }, 3);
    expect(sut.inGroup('g1')).toEqual([]);
    expect(sut.inGroup('g2').map((d) => d.deviceId)).toEqual(['d1']);
  });

  it('says which devices a caller of a group scope sees, and names them without a copy', () => {
    sut.applyMeta('d1', { group: 'hall-a', name: 'Boiler 1' }, 1);
    sut.applyStatus('d2', 'online', 1); // no group: in no scope
    expect(sut.visibleIn('d1', null)).toBe(true);
    expect(sut.visibleIn('d2', null)).toBe(true);
    expect(sut.visibleIn('d1', ['hall-a'])).toBe(true);
    expect(sut.visibleIn('d1', ['hall-b'])).toBe(false);
    expect(sut.visibleIn('d2', ['hall-a'])).toBe(false);
    expect(sut.visibleIn('nobody', null)).toBe(false);
    expect(sut.nameOf('d1')).toBe('Boiler 1');
    expect(sut.nameOf('d2')).toBeUndefined();
  });

  it('refuses new devices beyond MAX_DEVICES and counts them', () => {
    sut.applyStatus('d1', 'online', 1);
    sut.applyStatus('d2', 'online', 1);
    expect(sut.applyStatus('d3', 'online', 1)).toBeUndefined();
    expect(sut.applyReadings('d3', [reading(1, { a: 1 })], 1)).toBeUndefined();
    expect(sut.stats()).toEqual({
      known: 2,
      online: 2,
      limit: 2,
      refusedNew: 2,
      evicted: 0,
      removed: 0,
    });
  });

  it('evicts a device silent for DEVICE_IDLE_EVICT_MS to let a new one in, and says which', () => {
    sut = new DeviceRegistryService({ MAX_DEVICES: 2, DEVICE_IDLE_EVICT_MS: 60_000 });
    const evicted: string[] = [];
    sut.onGone((id, why) => evicted.push(`${id} ${why}`));
    sut.applyMeta('made-up', { group: 'g1' }, 0);
    sut.applyStatus('made-up', 'online', 0);
    sut.applyReadings('real', [reading(1, { a: 1 })], 0);
    // The real device keeps reporting; the made-up one never speaks again.
    for (let t = 10_000; t <= 60_000; t += 10_000)
      sut.applyReadings('real', [reading(t, { a: 1 })], t);
    expect(sut.applyStatus('new', 'online', 59_999)).toBeUndefined();
    expect(sut.applyStatus('new', 'online', 60_000)).toMatchObject({ deviceId: 'new' });
    expect(evicted).toEqual(['made-up evicted']);
    expect(sut.get('made-up')).toBeNull();
    expect(sut.inGroup('g1')).toEqual([]);
    expect(sut.get('real')).toMatchObject({ lastSeen: 60_000 });
    expect(sut.stats()).toEqual({
      known: 2,
      online: 1,
      limit: 2,
      refusedNew: 1,
      evicted: 1,
      removed: 0,
    });
  });

  it('removes a device on an admin’s word, says so to the listeners, and takes it back as new', () => {
    const gone: string[] = [];
    sut.onGone((id, why) => gone.push(`${id} ${why}`));
    sut.applyMeta('old', { name: 'Old pump', group: 'g1' }, 1);
    sut.applyStatus('old', 'online', 1);
    sut.applyReadings('old', [reading(1, { a: 1 })], 1);
    expect(sut.remove('old')).toBe(true);
    expect(sut.remove('old')).toBe(false);
    expect(sut.remove('never')).toBe(false);
    expect(gone).toEqual(['old removed']);
    expect(sut.get('old')).toBeNull();
    expect(sut.inGroup('g1')).toEqual([]);
    expect(sut.stats()).toMatchObject({ known: 0, online: 0, evicted: 0, removed: 1 });
    // It speaks again: a new device, with nothing of the old one.
    expect(sut.applyReadings('old', [reading(2, { b: 2 })], 2)).toMatchObject({
      deviceId: 'old',
      status: 'unknown',
      meta: null,
      metrics: ['b'],
    });
  });

  it('never evicts a device heard within DEVICE_IDLE_EVICT_MS, however old its entry', () => {
    sut = new DeviceRegistryService({ MAX_DEVICES: 2, DEVICE_IDLE_EVICT_MS: 60_000 });
    sut.applyReadings('first', [reading(1, { a: 1 })], 0);
    sut.applyReadings('second', [reading(1, { a: 1 })], 1000);
    sut.applyReadings('first', [reading(2, { a: 1 })], 50_000);
    // `first` heads the queue but was heard 20 s ago: `second` (silent 69 s) goes instead.
    expect(sut.evictIdle(70_000)).toBe(true);
    expect(sut.list().map((d) => d.deviceId)).toEqual(['first']);
    expect(sut.evictIdle(70_000)).toBe(false);
  });

  describe("with peers whose clocks are apart (silence judged on this gateway's clock)", () => {
    // Another gateway's share carries its own time as lastSeen; `now` is this gateway's.
    const TEN_MINUTES = 600_000;
    beforeEach(() => {
      sut = new DeviceRegistryService({ MAX_DEVICES: 2, DEVICE_IDLE_EVICT_MS: 60_000 });
    });

    it("keeps a device a peer shared a second ago, though that peer's clock is 10 min behind", () => {
      sut.applyReadings('here', [reading(1, { a: 1 })], 0);
      sut.applyShared('shared', 1_000 - TEN_MINUTES, 1_000 - TEN_MINUTES, ['a'], 1_000);
      expect(sut.applyStatus('new', 'online', 2_000)).toBeUndefined();
      expect(sut.list().map((d) => d.deviceId)).toEqual(['here', 'shared']);
      // What clients see stays the peer's time of the reading.
      expect(sut.get('shared')).toMatchObject({ lastSeen: 1_000 - TEN_MINUTES });
    });

    it("evicts a device no peer shared for a minute, though that peer's clock is 10 min ahead", () => {
      sut.applyReadings('here', [reading(1, { a: 1 })], 0);
      sut.applyShared('shared', TEN_MINUTES, TEN_MINUTES, ['a'], 0);
      sut.applyReadings('here', [reading(2, { a: 1 })], 60_000);
      expect(sut.applyStatus('new', 'online', 60_000)).toMatchObject({ deviceId: 'new' });
      expect(sut.get('shared')).toBeNull();
    });

    it("makes room for a device a peer shares only by this gateway's silence, not the share's time", () => {
      sut.applyReadings('here', [reading(1, { a: 1 })], 0);
      sut.applyReadings('there', [reading(1, { a: 1 })], 0);
      // A peer 10 min ahead shares a new device a second later: nothing here is silent yet.
      expect(sut.applyShared('far', 1_000 + TEN_MINUTES, 1_000, ['a'], 1_000)).toBeUndefined();
      expect(sut.list().map((d) => d.deviceId)).toEqual(['here', 'there']);
      // A minute of silence here: it gets in, with the peer's time as its last seen.
      expect(sut.applyShared('far', 61_000 + TEN_MINUTES, 61_000, ['a'], 61_000)).toMatchObject({
        deviceId: 'far',
        lastSeen: 61_000 + TEN_MINUTES,
      });
    });
  });

  it('bounds the metric names remembered per device', () => {
    const values: Record<string, number> = {};
    for (let i = 0; i < MAX_METRICS_PER_DEVICE + 10; i++) values[`m${i}`] = i;
    sut.applyReadings('d1', [reading(1, values)], 1);
    expect(sut.get('d1')?.metrics).toHaveLength(MAX_METRICS_PER_DEVICE);
  });
});
