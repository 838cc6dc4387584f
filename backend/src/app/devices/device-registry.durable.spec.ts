import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from '../store/database';
import { DEVICE_FLUSH_BATCH, DeviceRegistryService } from './device-registry.service';
import { SqliteDeviceStore } from './sqlite-device.store';

// Real: the registry over the SQLite store in a temp DATA_DIR; a "restart" is a new registry
// (and a new connection) on the same file.
describe('DeviceRegistryService across restarts', () => {
  let dir: string;
  const open: Database[] = [];

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'pulse-devices-'))));
  afterEach(() => {
    for (const database of open.splice(0)) database.onApplicationShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  async function boot(maxDevices = 10): Promise<DeviceRegistryService> {
    const database = new Database({ DATA_DIR: dir });
    open.push(database);
    const registry = new DeviceRegistryService(
      { MAX_DEVICES: maxDevices },
      new SqliteDeviceStore(database),
    );
    await registry.ready();
    return registry;
  }

  const reading = (deviceId: string, ts: number, values: Record<string, number>) => ({
    deviceId,
    ts,
    values,
  });

  it('comes back with each device as it was; a device last online is unknown until it speaks', async () => {
    const before = await boot();
    before.applyMeta('d1', { name: 'Boiler', group: 'plant', units: { t: '°C' } }, 1000);
    before.applyStatus('d1', 'online', 1100);
    before.applyReadings('d1', [reading('d1', 1150, { t: 70, p: 2 })], 1200);
    before.applyStatus('d2', 'offline', 1300);
    await before.flush();

    const after = await boot();

    expect(after.get('d1')).toEqual({
      deviceId: 'd1',
      status: 'unknown',
      lastSeen: 1200,
      lastTs: 1150,
      meta: { name: 'Boiler', group: 'plant', units: { t: '°C' } },
      metrics: ['t', 'p'],
    });
    expect(after.get('d2')).toMatchObject({ status: 'offline', lastSeen: 1300 });
    expect(after.inGroup('plant').map((d) => d.deviceId)).toEqual(['d1']);
    expect(after.stats()).toMatchObject({ known: 2, online: 0 });
    // Heard again: online, and a known metric is no news.
    expect(after.applyStatus('d1', 'online', 5000)).toMatchObject({ status: 'online' });
    expect(after.applyReadings('d1', [reading('d1', 4900, { t: 71 })], 5000)).toBeNull();
  });

  it('writes nothing a crash would need before the flush, and everything after it', async () => {
    const before = await boot();
    before.applyReadings('d1', [reading('d1', 1, { a: 1 })], 1000);
    expect((await boot()).list()).toEqual([]);
    await before.flush();
    before.applyReadings('d1', [reading('d1', 2, { a: 1 })], 2000);
    await before.flush();
    expect((await boot()).get('d1')).toMatchObject({ lastSeen: 2000, lastTs: 2 });
  });

  it('an evicted device stays evicted after a restart; one back since is kept', async () => {
    const before = await boot(2);
    before.applyReadings('old', [reading('old', 1, { a: 1 })], 0);
    before.applyReadings('back', [reading('back', 1, { a: 1 })], 0);
    await before.flush();
    // Both idle (10 min): each new one evicts the oldest.
    before.applyReadings('new', [reading('new', 1, { a: 1 })], 700_000);
    before.applyReadings('back2', [reading('back2', 1, { a: 1 })], 700_001);
    before.evictIdle(1_400_000);
    before.applyReadings('back', [reading('back', 2, { a: 1 })], 1_400_000);
    await before.flush();

    const ids = (await boot(2))
      .list()
      .map((d) => d.deviceId)
      .sort();
    expect(ids).toEqual(['back', 'back2']);
  });

  it('counts a restored device silent from this start on, not from its stored last seen', async () => {
    const before = await boot(2);
    before.applyReadings('d1', [reading('d1', 1, { a: 1 })], 1000);
    before.applyReadings('d2', [reading('d2', 1, { a: 1 })], 1000);
    await before.flush();

    // Stored long ago (or by a gateway whose clock is far behind): nobody listened meanwhile.
    const startedNotBefore = Date.now();
    const after = await boot(2);
    const startedBy = Date.now();
    expect(after.applyStatus('new', 'online', startedBy)).toBeUndefined();
    expect(after.applyStatus('new', 'online', startedNotBefore + 599_999)).toBeUndefined();
    // Silent here for DEVICE_IDLE_EVICT_MS (10 min): room for a new one.
    expect(after.applyStatus('new', 'online', startedBy + 600_000)).toMatchObject({
      deviceId: 'new',
    });
    expect(after.stats()).toMatchObject({ known: 2, evicted: 1, refusedNew: 2 });
  });

  it('keeps the most recently seen devices when MAX_DEVICES was lowered', async () => {
    const before = await boot(5);
    for (let i = 0; i < 5; i++) before.applyStatus(`d${i}`, 'online', 1000 + i);
    await before.flush();
    const after = await boot(2);
    expect(after.list().map((d) => d.deviceId)).toEqual(['d3', 'd4']);
    await after.flush();
    expect((await boot(5)).stats().known).toBe(2);
  });

  it('writes a large fleet in bounded batches, oldest change first', async () => {
    const before = await boot(DEVICE_FLUSH_BATCH + 10);
    for (let i = 0; i < DEVICE_FLUSH_BATCH + 10; i++) before.applyStatus(`d${i}`, 'offline', i);
    await before.flush();
    expect((await boot(DEVICE_FLUSH_BATCH + 10)).stats().known).toBe(DEVICE_FLUSH_BATCH);
    await before.close();
    expect((await boot(DEVICE_FLUSH_BATCH + 10)).stats().known).toBe(DEVICE_FLUSH_BATCH + 10);
  });
});
