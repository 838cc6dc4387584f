import {
  AlertEvent,
  DeviceInfo,
  FLEET_ROOM,
  Reading,
  deviceRoom,
  groupRoom,
} from '@pulse/protocol';
import { LiveHubService, ROOM_BUFFER_LIMIT } from './live-hub.service';
import { LiveSink } from './live-socket.repository';

class FakeSink implements LiveSink {
  rooms = new Set<string>();
  emitted: { room: string; except: readonly string[]; batch: Reading[] }[] = [];
  devices: { rooms: readonly string[]; device: DeviceInfo }[] = [];
  hasMembers(room: string): boolean {
    return this.rooms.has(room);
  }
  emitReadings(
    room: string,
    except: readonly string[],
    batch: Reading[],
  ): void {
    this.emitted.push({ room, except, batch });
  }
  emitDevice(rooms: readonly string[], device: DeviceInfo): void {
    this.devices.push({ rooms, device });
  }
  emitGateway(): void {
    /* not under test */
  }
  alerts: AlertEvent[] = [];
  emitAlert(alert: AlertEvent): void {
    this.alerts.push(alert);
  }
}

const reading = (deviceId: string, ts: number): Reading => ({
  deviceId,
  ts,
  values: { a: ts },
});

describe('LiveHubService', () => {
  let sink: FakeSink;
  let sut: LiveHubService;

  beforeEach(() => {
    jest.useFakeTimers({ now: 1_000_000 });
    sink = new FakeSink();
    sut = new LiveHubService({ FLUSH_MS: 50 }, sink);
  });

  afterEach(() => {
    sut.close();
    jest.useRealTimers();
  });

  it('flushes the first reading after idle on the next turn, without waiting FLUSH_MS', () => {
    sink.rooms.add(deviceRoom('d1'));
    sut.publishReadings('d1', undefined, [reading('d1', 1)]);
    expect(sink.emitted).toHaveLength(0);
    jest.advanceTimersByTime(0); // runs setImmediate
    expect(sink.emitted).toEqual([
      { room: 'device:d1', except: [FLEET_ROOM], batch: [reading('d1', 1)] },
    ]);
  });

  it('coalesces readings under load into one emit per room per FLUSH_MS', () => {
    sink.rooms.add(deviceRoom('d1')).add(deviceRoom('d2'));
    sut.publishReadings('d1', undefined, [reading('d1', 1)]);
    jest.advanceTimersByTime(0);
    sink.emitted = [];
    for (let i = 0; i < 10; i++) {
      sut.publishReadings('d1', undefined, [reading('d1', 10 + i)]);
      sut.publishReadings('d2', undefined, [reading('d2', 10 + i)]);
      jest.advanceTimersByTime(4);
    }
    expect(sink.emitted).toHaveLength(0); // 40 ms since the last flush
    jest.advanceTimersByTime(10);
    expect(sink.emitted.map((e) => [e.room, e.batch.length])).toEqual([
      ['device:d1', 10],
      ['device:d2', 10],
    ]);
    expect(sut.stats()).toMatchObject({ emits: 3, readingsSent: 21 });
  });

  it('routes to fleet, group and device rooms, excluding wider rooms so nobody gets a reading twice', () => {
    sink.rooms.add(FLEET_ROOM).add(groupRoom('g')).add(deviceRoom('d1'));
    sut.publishReadings('d1', 'g', [reading('d1', 1)]);
    jest.advanceTimersByTime(0);
    expect(sink.emitted.map((e) => [e.room, e.except])).toEqual([
      [FLEET_ROOM, []],
      ['group:g', [FLEET_ROOM]],
      ['device:d1', [FLEET_ROOM, 'group:g']],
    ]);
  });

  it('leaves paused (lagging) sockets out of readings emits until resumed', () => {
    sink.rooms.add(deviceRoom('d1'));
    sut.pauseSocket('slow');
    sut.publishReadings('d1', undefined, [reading('d1', 1)]);
    jest.advanceTimersByTime(0);
    sut.resumeSocket('slow');
    sut.publishReadings('d1', undefined, [reading('d1', 2)]);
    jest.advanceTimersByTime(50);
    expect(sink.emitted.map((e) => e.except)).toEqual([
      [FLEET_ROOM, 'slow'],
      [FLEET_ROOM],
    ]);
    expect(sut.sentTo(deviceRoom('d1'))).toBe(2);
  });

  it('buffers nothing for rooms without members', () => {
    sut.publishReadings('d1', 'g', [reading('d1', 1)]);
    jest.runAllTimers();
    expect(sink.emitted).toEqual([]);
  });

  it('bounds a room buffer, dropping the oldest readings and counting them', () => {
    sink.rooms.add(deviceRoom('d1'));
    const many = Array.from({ length: ROOM_BUFFER_LIMIT + 5 }, (_, i) =>
      reading('d1', i),
    );
    sut.publishReadings('d1', undefined, many);
    jest.advanceTimersByTime(0);
    expect(sink.emitted[0].batch).toHaveLength(ROOM_BUFFER_LIMIT);
    expect(sink.emitted[0].batch[0].ts).toBe(5);
    expect(sut.stats().droppedOverflow).toBe(5);
  });

  it('emits alerts at once to every client, not batched with readings', () => {
    const alert = { id: 'al-1', deviceId: 'd1' } as AlertEvent;
    sut.publishAlert(alert);
    sut.publishAlert(alert);
    expect(sink.alerts).toEqual([alert, alert]);
    expect(sut.stats().alertsSent).toBe(2);
    sut.close();
    sut.publishAlert(alert);
    expect(sink.alerts).toHaveLength(2);
  });

  it('emits device changes at once to the fleet, device and group rooms', () => {
    const device: DeviceInfo = {
      deviceId: 'd1',
      status: 'offline',
      lastSeen: 1,
      lastTs: null,
      meta: { group: 'g' },
      metrics: [],
    };
    sut.publishDevice(device);
    expect(sink.devices).toEqual([
      { rooms: [FLEET_ROOM, 'device:d1', 'group:g'], device },
    ]);
  });
});
