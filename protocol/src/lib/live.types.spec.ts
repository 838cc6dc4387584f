/**
 * Type tests of the Socket.IO event maps: ts-jest type-checks this file, so a
 * `@ts-expect-error` that stops being an error fails the test run.
 */
import type {
  AckResponse,
  AlertEvent,
  ClientToServerEvents,
  DeviceInfo,
  DeviceSummary,
  GatewayStatus,
  Reading,
  ServerToClientEvents,
  SubscribeAck,
} from '../index';
import { decodeFleetSummary, DS, encodeSummaryEvent } from '../index';

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

const alert: AlertEvent = {
  id: 'al-1',
  ruleId: 'r',
  kind: 'threshold',
  ruleName: 'r',
  deviceId: 'd',
  metric: 't',
  severity: 'major',
  state: 'raised',
  message: 'm',
  value: 1,
  threshold: 0,
  raisedAt: 1,
  updatedAt: 1,
  acknowledgedAt: null,
  acknowledgedBy: null,
  ackNote: null,
  clearedAt: null,
  flapping: false,
  count: 1,
  active: true,
};

describe('live event maps (type-level)', () => {
  it('accept the documented payloads', () => {
    serverEmit('readings', [reading]);
    serverEmit('devices', [device]);
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

  it('carry the alert snapshot, the deltas and acknowledgements', () => {
    const before = calls.length;
    serverEmit('alerts', [alert]);
    serverEmit('alert', { ...alert, v: 1 });
    serverEmit('alertsVersion', { version: 'boot.1' });
    // @ts-expect-error a delta carries its change number
    serverEmit('alert', alert);
    // Who acknowledges is the signed-in user; a `by` is still accepted from older clients.
    clientEmit('ack', { id: 'al-1' }, (response: AckResponse) => {
      if (response.ok) void response.alert.acknowledgedBy;
      else void response.error;
    });
    clientEmit('ack', { id: 'al-1', by: 'alice', note: 'on it' }, () => undefined);
    // @ts-expect-error the snapshot is a list
    serverEmit('alerts', alert);
    // @ts-expect-error an alert says which kind of rule raised it
    serverEmit('alerts', [{ ...alert, kind: 'no-data' }]);
    // @ts-expect-error ack needs the alert's id
    clientEmit('ack', { by: 'alice' }, () => undefined);
    // @ts-expect-error ack needs an acknowledgement callback
    clientEmit('ack', { id: 'al-1' });
    expect(calls.length - before).toBeGreaterThanOrEqual(4);
  });

  it('carry the fleet summary: snapshot in the ack, then deltas', () => {
    const before = calls.length;
    const summarised: DeviceSummary = ['sim-001', 'Boiler', 'hall-a', 'online', 120, [21, null, 3]];
    const alerting: DeviceSummary = ['sim-002', null, null, 'offline', null, [], ['critical', 2]];
    clientEmit('subscribe', { summary: true, history: false }, (ack: SubscribeAck) => {
      if (ack.ok && ack.summary) void decodeFleetSummary(ack.summary)?.devices[0][DS.values];
    });
    const delta = encodeSummaryEvent({ at: 1, changed: [summarised, alerting], removed: ['s-3'] });
    serverEmit('summary', delta);
    serverEmit('summary', encodeSummaryEvent({ at: 2, changed: [], removed: [], metrics: ['t'] }));
    clientEmit('unsubscribe', { summary: true }, () => undefined);
    // @ts-expect-error on the socket the summary is the wire form: readable tuples are encoded first
    serverEmit('summary', { at: 1, changed: [summarised], removed: [] });
    // @ts-expect-error removed devices are ids
    serverEmit('summary', { ...delta, removed: [device] });
    // @ts-expect-error the alert state is [severity, count]
    const badAlert: DeviceSummary = ['d', null, null, 'online', 0, [], ['bad', 1]];
    void badAlert;
    expect(calls.length - before).toBe(6);
  });

  it('refuse wrong payloads at compile time', () => {
    // @ts-expect-error readings is an array of readings, not one reading
    serverEmit('readings', reading);
    // @ts-expect-error a reading's values are numbers
    serverEmit('readings', [{ deviceId: 'd', ts: 1, values: { t: '21' } }]);
    // @ts-expect-error device status is online | offline | unknown
    serverEmit('devices', [{ ...device, status: 'up' }]);
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
