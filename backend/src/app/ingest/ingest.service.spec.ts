import { Logger } from '@nestjs/common';
import { AlertsService } from '../alerts/alerts.service';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { HistoryService } from '../history/history.service';
import { LiveHubService } from '../live/live-hub.service';
import { IngestService } from './ingest.service';
import { MqttRepository } from './mqtt.repository';

describe('IngestService', () => {
  const now = 1_800_000_000_000;
  let registry: DeviceRegistryService;
  let history: HistoryService;
  let hub: jest.Mocked<
    Pick<LiveHubService, 'publishReadings' | 'publishDevice' | 'publishGateway'>
  >;
  let alerts: jest.Mocked<Pick<AlertsService, 'onReadings' | 'onStatus'>>;
  let sut: IngestService;

  beforeEach(() => {
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    // Real registry and history (pure, in memory); the hub and the MQTT connection are fakes.
    registry = new DeviceRegistryService({ MAX_DEVICES: 2 });
    history = new HistoryService({
      HISTORY_WINDOW_MS: 3_600_000,
      HISTORY_MAX_POINTS: 100,
    });
    hub = {
      publishReadings: jest.fn(),
      publishDevice: jest.fn(),
      publishGateway: jest.fn(),
    };
    alerts = { onReadings: jest.fn(), onStatus: jest.fn() };
    const mqtt = { connected: true, reconnects: 0 } as MqttRepository;
    sut = new IngestService(
      { MQTT_CLIENT_ID: 'test', FLUSH_MS: 50 },
      mqtt,
      registry,
      history,
      hub as unknown as LiveHubService,
      alerts as unknown as AlertsService,
    );
  });

  afterEach(() => jest.restoreAllMocks());

  const send = (topic: string, payload: string | Buffer) =>
    sut.handleMessage(topic, typeof payload === 'string' ? Buffer.from(payload) : payload, now);

  it('sends valid telemetry to registry, history and the live hub, with one device event for a new device', () => {
    send('devices/d1/telemetry', '[{"ts":1799999999000,"values":{"a":1}},{"values":{"a":2}}]');
    expect(hub.publishReadings).toHaveBeenCalledWith('d1', undefined, [
      { deviceId: 'd1', ts: 1_799_999_999_000, values: { a: 1 } },
      { deviceId: 'd1', ts: now, values: { a: 2 } },
    ]);
    expect(hub.publishDevice).toHaveBeenCalledTimes(1);
    expect(history.query('d1')[0].t).toEqual([1_799_999_999_000, now]);
    send('devices/d1/telemetry', '{"a":3}');
    expect(hub.publishDevice).toHaveBeenCalledTimes(1);
  });

  it('counts rejections by reason, keeping the valid readings of a partly bad batch', () => {
    send('devices/d1/telemetry', '[{"values":{"a":1}},{"values":{"a":"x"}}]');
    send('devices/d1/telemetry', 'not json');
    send('devices/bad id/telemetry', '{"a":1}');
    send('devices/d1/telemetry', Buffer.from([0xff]));
    const stats = sut.stats();
    expect(stats.rejected).toMatchObject({
      value: 1,
      json: 1,
      topic: 1,
      encoding: 1,
    });
    expect(stats.readings).toEqual({ accepted: 1, rejected: 4 });
    expect(stats.messages).toMatchObject({ received: 4, telemetry: 1 });
  });

  it('applies status and meta and routes readings to the group from the meta', () => {
    send('devices/d1/meta', '{"group":"hall"}');
    send('devices/d1/status', 'offline');
    send('devices/d1/telemetry', '{"a":1}');
    expect(hub.publishDevice).toHaveBeenLastCalledWith(
      expect.objectContaining({ status: 'offline', metrics: ['a'] }),
    );
    expect(hub.publishReadings).toHaveBeenCalledWith('d1', 'hall', expect.any(Array));
  });

  it('feeds the alert engine once per message with its readings, and every status', () => {
    send('devices/d1/telemetry', '[{"values":{"a":1}},{"values":{"a":2}}]');
    expect(alerts.onReadings).toHaveBeenCalledTimes(1);
    expect(alerts.onReadings).toHaveBeenCalledWith([
      { deviceId: 'd1', ts: now, values: { a: 1 } },
      // Without ts, the second of a batch gets the next ms: readings never collide (issue 13).
      { deviceId: 'd1', ts: now + 1, values: { a: 2 } },
    ]);
    send('devices/d1/status', 'offline');
    send('devices/d1/status', 'offline');
    expect(alerts.onStatus).toHaveBeenCalledTimes(2);
    expect(alerts.onStatus).toHaveBeenCalledWith('d1', 'offline', now);
    send('devices/d1/telemetry', 'not json');
    expect(alerts.onReadings).toHaveBeenCalledTimes(1);
  });

  it('records nothing from devices refused by a full registry', () => {
    send('devices/d1/telemetry', '{"a":1}');
    send('devices/d2/telemetry', '{"a":1}');
    send('devices/d3/telemetry', '{"a":1}');
    send('devices/d3/status', 'offline');
    expect(history.query('d3')).toEqual([]);
    expect(alerts.onReadings).toHaveBeenCalledTimes(2);
    expect(alerts.onStatus).not.toHaveBeenCalled();
    expect(hub.publishReadings).toHaveBeenCalledTimes(2);
    expect(registry.stats().refusedNew).toBe(2); // its telemetry and its status
  });
});
