/**
 * Type tests of the Socket.IO event maps: ts-jest type-checks this file, so a
 * `@ts-expect-error` that stops being an error fails the test run.
 */
import type {
  AlertEvent,
  ClientToServerEvents,
  DeviceInfo,
  GatewayStatus,
  Reading,
  ServerToClientEvents,
  SubscribeAck,
} from '../index';

/** The shape of socket.io's typed `emit`, without importing socket.io into the contract's tests. */
type Emit<Events> = <E extends keyof Events>(
  event: E,
  ...args: Events[E] extends (...a: infer P) => void ? P : never
) => void;

const calls: unknown[][] = [];
const serverEmit: Emit<ServerToClientEvents> = (event, ...args) => calls.push([event, ...args]);
const clientEmit: Emit<ClientToServerEvents> = (event, ...args) => calls.push([event, ...args]);

const reading: Reading = { deviceId: 'sim-001', ts: 1, values: { temperature: 21 } };
const device: DeviceInfo = {
  deviceId: 'sim-001',
  status: 'online',
  lastSeen: 1,
  lastTs: 1,
  meta: null,
  metrics: [],
};
const gateway: GatewayStatus = { broker: 'connected', serverTime: 1, flushMs: 50 };

describe('live event maps (type-level)', () => {
  it('accept the documented payloads', () => {
    serverEmit('readings', [reading]);
    serverEmit('device', device);
    serverEmit('gateway', gateway);
    serverEmit('lagged', { since: 1 });
    clientEmit('subscribe', { devices: ['sim-001'], since: 0 }, (ack: SubscribeAck) => {
      if (ack.ok) {
        const serverTime: number = ack.serverTime;
        void serverTime;
      } else {
        const error: string = ack.error;
        void error;
      }
    });
    clientEmit('unsubscribe', { fleet: true }, () => undefined);
    expect(calls).toHaveLength(6);
  });

  it('refuse wrong payloads at compile time', () => {
    // @ts-expect-error readings is an array of readings, not one reading
    serverEmit('readings', reading);
    // @ts-expect-error a reading's values are numbers
    serverEmit('readings', [{ deviceId: 'd', ts: 1, values: { t: '21' } }]);
    // @ts-expect-error device status is online | offline | unknown
    serverEmit('device', { ...device, status: 'up' });
    // @ts-expect-error gateway broker state is a union of two words
    serverEmit('gateway', { ...gateway, broker: true });
    // @ts-expect-error no such server event
    serverEmit('reading', [reading]);
    // @ts-expect-error an alert needs its whole lifecycle record
    serverEmit('alert', { id: 'a1', state: 'raised' } satisfies Partial<AlertEvent>);
    // @ts-expect-error devices is a list of ids
    clientEmit('subscribe', { devices: 'sim-001' }, () => undefined);
    // @ts-expect-error subscribe needs an acknowledgement callback
    clientEmit('subscribe', { fleet: true });
    // @ts-expect-error unsubscribe takes no history options
    clientEmit('unsubscribe', { since: 5 }, () => undefined);
    // @ts-expect-error clients cannot emit server events
    clientEmit('readings', [reading]);
    expect(calls.length).toBeGreaterThan(6);
  });
});
