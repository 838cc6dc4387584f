import { DeviceInfo, metaTopic, Reading, telemetryTopic } from '@pulse/protocol';
import {
  collectReadings,
  publish,
  publishTelemetry,
  sleep,
  subscribe,
  waitFor,
} from '@pulse/test-support';
import { usePulse } from './support/pulse';

// Real: embedded broker, ingest, live hub and Socket.IO rooms with socket.io-client.
describe('live rooms and coalescing', () => {
  const backend = usePulse({ env: { FLUSH_MS: '100' }, device: true });
  const { live } = backend;

  it('routes readings to group and fleet rooms and never delivers a reading twice to one client', async () => {
    await publish(
      backend.device,
      metaTopic('g-1'),
      JSON.stringify({ name: 'G one', group: 'hall' }),
      1,
      true,
    );
    await publish(backend.device, metaTopic('g-2'), JSON.stringify({ group: 'hall' }), 1, true);
    const groupOnly = await live();
    const everything = await live();
    const groupAck = await subscribe(groupOnly, { groups: ['hall'] });
    await waitFor(async () => {
      const ack = await subscribe(groupOnly, {
        groups: ['hall'],
        history: false,
      });
      return ack.ok && ack.devices.length === 2;
    });
    expect(groupAck.ok).toBe(true);
    // Overlapping subscriptions: fleet + group + device.
    expect(
      await subscribe(everything, {
        fleet: true,
        groups: ['hall'],
        devices: ['g-1', 'other'],
      }),
    ).toMatchObject({ ok: true });
    const inGroup = collectReadings(groupOnly);
    const all = collectReadings(everything);

    await publishTelemetry(backend.device, 'g-1', { values: { a: 1 } });
    await publishTelemetry(backend.device, 'g-2', { values: { a: 2 } });
    await publishTelemetry(backend.device, 'other', { values: { a: 3 } });
    await publishTelemetry(backend.device, 'lonely', { values: { a: 4 } });

    await all.waitForCount(4);
    await inGroup.waitForCount(2);
    await sleep(300); // let any duplicate arrive
    const values = (readings: Reading[]) => readings.map((r) => r.values['a']).sort();
    expect(values(all.readings)).toEqual([1, 2, 3, 4]);
    expect(values(inGroup.readings)).toEqual([1, 2]);
  });

  it('coalesces a burst into few batches per room', async () => {
    const socket = await live();
    await subscribe(socket, { devices: ['burst'] });
    const received = collectReadings(socket);
    const { device } = backend;
    for (let i = 0; i < 200; i++)
      device.publish(telemetryTopic('burst'), JSON.stringify({ values: { i } }), { qos: 0 });
    await received.waitForCount(200);
    expect(received.readings.map((r) => r.values['i'])).toEqual(
      Array.from({ length: 200 }, (_, i) => i),
    );
    expect(received.batches).toBeLessThan(20);
  });

  it('pushes device changes (meta, new metric) but not every reading', async () => {
    const socket = await live();
    const batches: DeviceInfo[][] = [];
    socket.on('devices', (list) => batches.push(list));
    await subscribe(socket, { devices: ['chg'] });
    const received = collectReadings(socket);
    await publishTelemetry(backend.device, 'chg', { values: { a: 1 } });
    await publishTelemetry(backend.device, 'chg', { values: { a: 2 } });
    await publishTelemetry(backend.device, 'chg', { values: { a: 3, b: 1 } });
    await publish(backend.device, metaTopic('chg'), JSON.stringify({ name: 'Changed' }), 1);
    await received.waitForCount(3);
    const last = () => batches.at(-1)?.find((d) => d.deviceId === 'chg');
    await waitFor(() => last()?.meta?.name === 'Changed');
    // The newest state, each change at most once (a batch may fold several), none per reading.
    expect([last()?.metrics, last()?.meta?.name]).toEqual([['a', 'b'], 'Changed']);
    expect(batches.length).toBeLessThanOrEqual(3);
    for (const batch of batches) expect(batch.map((d) => d.deviceId)).toEqual(['chg']);
  });

  it('tells a fleet screen about a fleet coming online in a few batched events, each device once', async () => {
    const socket = await live();
    const batches: DeviceInfo[][] = [];
    socket.on('devices', (list) => batches.push(list));
    await subscribe(socket, { fleet: true });
    const ids = Array.from({ length: 200 }, (_, i) => `storm-${i}`);
    for (const id of ids)
      backend.device.publish(telemetryTopic(id), JSON.stringify({ values: { a: 1 } }), { qos: 0 });
    const seen = () => new Set(batches.flat().map((d) => d.deviceId));
    await waitFor(() => ids.every((id) => seen().has(id)));
    // Today's default: one event per DEVICE_EVENTS_MS at most, not one per device.
    expect(batches.length).toBeLessThan(20);
    for (const batch of batches)
      expect(new Set(batch.map((d) => d.deviceId)).size).toBe(batch.length);
  });
});
