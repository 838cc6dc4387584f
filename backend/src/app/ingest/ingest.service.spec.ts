import { Logger } from '@nestjs/common';
import { nameToId } from '@pulse/protocol';
import { AlertRouting } from '../ownership/alert-routing.service';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { HistoryService } from '../history/history.service';
import { LiveHubService } from '../live/live-hub.service';
import { filledIn, IngestService } from './ingest.service';
import { MqttRepository } from './mqtt.repository';
import { SourceRouter } from './sources/source-router';
import { loadSources } from './sources/source-spec';

describe('IngestService', () => {
  const now = 1_800_000_000_000;
  let registry: DeviceRegistryService;
  let history: HistoryService;
  let hub: jest.Mocked<
    Pick<LiveHubService, 'publishReadings' | 'publishDevice' | 'publishGateway'>
  >;
  let alerts: jest.Mocked<Pick<AlertRouting, 'onReadings' | 'onStatus'>>;
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
      alerts as unknown as AlertRouting,
      new SourceRouter(loadSources('tasmota,zigbee2mqtt,shelly', undefined)),
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

  it('has the readings of a QoS 1 or 2 message journaled, not those of QoS 0, on contract and source topics', () => {
    const record = jest.spyOn(history, 'record');
    sut.handleMessage('devices/d1/telemetry', Buffer.from('{"a":1}'), now, 0);
    sut.handleMessage('devices/d1/telemetry', Buffer.from('{"a":2}'), now, 1);
    sut.handleMessage('tele/plug-7/SENSOR', Buffer.from('{"ENERGY":{"Power":45}}'), now, 0);
    sut.handleMessage('tele/plug-7/SENSOR', Buffer.from('{"ENERGY":{"Power":46}}'), now, 2);
    expect(record.mock.calls.map(([deviceId, , durable]) => [deviceId, durable])).toEqual([
      ['d1', false],
      ['d1', true],
      ['plug-7', false],
      ['plug-7', true],
    ]);
  });

  describe('ingest sources (presets)', () => {
    it('reads a Tasmota SENSOR as readings of the device its topic names, counting what it skipped', () => {
      send(
        'tele/plug-7/SENSOR',
        '{"Time":"2024-03-10T14:22:05","ENERGY":{"TotalStartTime":"2023-11-02T10:12:41","Total":12.3,"Power":45}}',
      );
      expect(hub.publishReadings).toHaveBeenCalledWith('plug-7', undefined, [
        { deviceId: 'plug-7', ts: now, values: { 'ENERGY.Total': 12.3, 'ENERGY.Power': 45 } },
      ]);
      expect(history.query('plug-7').map((s) => s.metric)).toEqual([
        'ENERGY.Total',
        'ENERGY.Power',
      ]);
      expect(sut.stats().sources).toMatchObject({
        messages: { tasmota: 1 },
        skippedFields: { string: 2 },
      });
    });

    it('reads a Tasmota multi-channel meter as one metric per channel, nothing skipped', () => {
      send('tele/plug-7/SENSOR', '{"ENERGY":{"Power":[10,20],"Voltage":[230,231],"Today":0.2}}');
      expect(hub.publishReadings).toHaveBeenCalledWith('plug-7', undefined, [
        {
          deviceId: 'plug-7',
          ts: now,
          values: {
            'ENERGY.Power.1': 10,
            'ENERGY.Power.2': 20,
            'ENERGY.Voltage.1': 230,
            'ENERGY.Voltage.2': 231,
            'ENERGY.Today': 0.2,
          },
        },
      ]);
      expect(sut.stats().sources?.skippedFields).toEqual({});
    });

    it('gives a device the units its firmware documents, filling in what its meta lacks', () => {
      send('tele/plug-7/STATE', '{"POWER":"ON","Wifi":{"RSSI":62}}');
      expect(registry.get('plug-7')?.meta).toEqual({ units: { 'Wifi.RSSI': '%' } });
      send(
        'tele/plug-7/SENSOR',
        '{"ENERGY":{"Power":[10,20],"Voltage":231},"AM2301":{"Temperature":21.4},"TempUnit":"C"}',
      );
      expect(registry.get('plug-7')?.meta).toEqual({
        units: {
          'Wifi.RSSI': '%',
          'ENERGY.Power.1': 'W',
          'ENERGY.Power.2': 'W',
          'ENERGY.Voltage': 'V',
          'AM2301.Temperature': '°C',
        },
      });
      expect(hub.publishDevice).toHaveBeenLastCalledWith(
        expect.objectContaining({
          deviceId: 'plug-7',
          meta: expect.objectContaining({
            units: expect.objectContaining({ 'ENERGY.Voltage': 'V' }),
          }),
        }),
      );
    });

    it('follows a Tasmota switched from °C to °F, but never changes a unit its owner set', () => {
      const sensor = (unit: string) =>
        send(
          'tele/plug-7/SENSOR',
          `{"AM2301":{"Temperature":70.5},"BMP280":{"Temperature":71.2},"TempUnit":"${unit}"}`,
        );
      sensor('C');
      send('tele/plug-7/STATE', '{"POWER":"ON","Wifi":{"RSSI":62}}'); // says other units between
      // The owner's retained meta names one of the two sensors' unit.
      send('devices/plug-7/meta', '{"units":{"BMP280.Temperature":"°C"}}');
      sensor('F'); // SetOption8 1: its values are °F from now on
      send('tele/plug-7/STATE', '{"POWER":"ON","Wifi":{"RSSI":61}}');
      expect(registry.get('plug-7')?.meta?.units).toEqual({
        'BMP280.Temperature': '°C',
        'AM2301.Temperature': '°F',
        'Wifi.RSSI': '%',
      });
      sensor('C'); // and back
      expect(registry.get('plug-7')?.meta?.units).toMatchObject({
        'BMP280.Temperature': '°C',
        'AM2301.Temperature': '°C',
      });
    });

    it('gives zigbee2mqtt and Shelly devices the units their firmware documents', () => {
      send('zigbee2mqtt/Hall', '{"temperature":21.5,"battery":90,"linkquality":120}');
      expect(registry.get('Hall')?.meta?.units).toEqual({
        temperature: '°C',
        battery: '%',
        linkquality: 'lqi',
      });
      send(
        'shellyplus1pm-80646fe1b0b4/events/rpc',
        '{"src":"shellyplus1pm-80646fe1b0b4","method":"NotifyStatus","params":{"ts":1799999999.5,"switch:0":{"apower":12.4,"temperature":{"tC":45.2,"tF":113.4}}}}',
      );
      expect(registry.get('shellyplus1pm-80646fe1b0b4')?.meta?.units).toEqual({
        'switch_0.apower': 'W',
        'switch_0.temperature.tC': '°C',
        'switch_0.temperature.tF': '°F',
      });
    });

    it('keeps the units and name a device’s own meta gives, and sends no device event when nothing is new', () => {
      send('devices/plug-7/meta', '{"name":"Boiler plug","units":{"ENERGY.Power":"kW"}}');
      send('tele/plug-7/SENSOR', '{"ENERGY":{"Power":0.045,"Voltage":231}}');
      expect(registry.get('plug-7')?.meta).toEqual({
        name: 'Boiler plug',
        units: { 'ENERGY.Power': 'kW', 'ENERGY.Voltage': 'V' },
      });
      hub.publishDevice.mockClear();
      send('tele/plug-7/SENSOR', '{"ENERGY":{"Power":0.046,"Voltage":230}}');
      expect(hub.publishDevice).not.toHaveBeenCalled();
    });

    it('takes status from an LWT and from zigbee2mqtt availability, and a friendly name as an id and display name', () => {
      const hall = nameToId('Kitchen/Hall Sensor') as string;
      send('tele/plug-7/LWT', 'Offline');
      send('zigbee2mqtt/Kitchen/Hall Sensor/availability', '{"state":"online"}');
      send(
        'zigbee2mqtt/Kitchen/Hall Sensor',
        '{"temperature":21.5,"last_seen":"2026-12-02T05:00:00Z"}',
      );
      expect(alerts.onStatus).toHaveBeenCalledWith('plug-7', 'offline', now);
      expect(alerts.onStatus).toHaveBeenCalledWith(hall, 'online', now);
      expect(hub.publishReadings).toHaveBeenCalledWith(hall, undefined, [
        {
          deviceId: hall,
          ts: Date.parse('2026-12-02T05:00:00Z'),
          values: { temperature: 21.5 },
        },
      ]);
      expect(registry.get(hall)?.meta).toEqual({
        name: 'Kitchen/Hall Sensor',
        units: { temperature: '°C' },
      });
    });

    it('sets zigbee2mqtt’s bridge and command topics aside, neither devices nor rejections', () => {
      send('zigbee2mqtt/bridge/state', '{"state":"online"}');
      send('zigbee2mqtt/bridge/info', '{"version":"1.35.0","coordinator":{"type":"zStack3x0"}}');
      send('zigbee2mqtt/Hall/set', '{"state":"ON"}');
      const stats = sut.stats();
      expect(stats.readings.rejected).toBe(0);
      expect(stats.sources).toMatchObject({ ignored: { zigbee2mqtt: 3 } });
      expect(registry.list()).toEqual([]);
    });

    it('reads zigbee2mqtt’s epoch last_seen, and one an hour ahead at the receive time, counted', () => {
      send('zigbee2mqtt/Hall', `{"temperature":21.5,"last_seen":${now - 2000}}`);
      send('zigbee2mqtt/Hall', `{"temperature":21.6,"last_seen":${now + 3_600_000}}`);
      expect(hub.publishReadings).toHaveBeenNthCalledWith(1, 'Hall', undefined, [
        { deviceId: 'Hall', ts: now - 2000, values: { temperature: 21.5 } },
      ]);
      expect(hub.publishReadings).toHaveBeenNthCalledWith(2, 'Hall', undefined, [
        { deviceId: 'Hall', ts: now, values: { temperature: 21.6 } },
      ]);
      const stats = sut.stats();
      expect(stats.readings).toEqual({ accepted: 2, rejected: 0 });
      expect(stats.sources?.skippedFields).toEqual({ future_timestamp: 1 });
    });

    it('counts a topic no source matches under `topic`, keeping the first topics seen', () => {
      send('home/kitchen/temp', '21');
      send('home/kitchen/temp', '22');
      send('shellies/x/relay/0', 'on');
      const stats = sut.stats();
      expect(stats.rejected.topic).toBe(3);
      expect(stats.sources?.unmatchedTopics).toEqual(['home/kitchen/temp', 'shellies/x/relay/0']);
      expect(hub.publishReadings).not.toHaveBeenCalled();
    });

    it('sets a Shelly NotifyEvent aside as a normal firmware message, not a rejection', () => {
      send(
        'shellyplus1pm-80646fe1b0b4/events/rpc',
        '{"src":"shellyplus1pm-80646fe1b0b4","dst":"shellyplus1pm-80646fe1b0b4/events","method":"NotifyEvent","params":{"ts":1799999999.5,"events":[{"component":"input:0","id":0,"event":"single_push","ts":1799999999.5}]}}',
      );
      const stats = sut.stats();
      expect(stats.readings.rejected).toBe(0);
      expect(stats.rejected.empty).toBe(0);
      expect(stats.sources).toMatchObject({ messages: { shelly: 1 }, ignored: { shelly: 1 } });
      expect(hub.publishReadings).not.toHaveBeenCalled();
    });

    it('rejects a whole message a format cannot read, by reason, without touching the rest', () => {
      send('tele/plug-7/SENSOR', 'not json');
      send('tele/plug-7/SENSOR', '{"only":"text"}');
      send('tele/plug-7/SENSOR', '{"Power":5}');
      expect(sut.stats().rejected).toMatchObject({ json: 1, empty: 1 });
      expect(hub.publishReadings).toHaveBeenCalledTimes(1);
    });
  });
});

describe('filledIn (a source’s meta under the device’s own)', () => {
  it('fills in only what the meta lacks, up to 64 units, and says null when nothing is new', () => {
    const own = { name: 'Boiler', units: { a: 'kW' } };
    expect(filledIn(own, { name: 'x', group: 'g', units: { a: 'W', b: 'V' } })).toEqual({
      name: 'Boiler',
      group: 'g',
      units: { a: 'kW', b: 'V' },
    });
    expect(filledIn(own, { name: 'x', units: { a: 'W' } })).toBeNull();
    expect(filledIn(null, { units: { a: 'W' } })).toEqual({ units: { a: 'W' } });
    const many = Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`m${i}`, 'W']));
    expect(Object.keys(filledIn(own, { units: many })?.units ?? {})).toHaveLength(64);
  });

  it('changes a unit only the source had said, when it says another', () => {
    const own = { units: { a: 'kW', t: '°C' } };
    // `t` came from the source, `a` from the owner's meta.
    expect(filledIn(own, { units: { a: 'W', t: '°F' } }, { t: '°C' })).toEqual({
      units: { a: 'kW', t: '°F' },
    });
    expect(filledIn(own, { units: { t: '°C' } }, { t: '°C' })).toBeNull();
  });
});
