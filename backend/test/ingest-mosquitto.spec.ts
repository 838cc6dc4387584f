import { GatewayStatus, IngestStats } from '@pulse/protocol';
import {
  closeLive,
  collectReadings,
  connectLive,
  connectMqtt,
  endMqtt,
  getJson,
  Mosquitto,
  mosquittoAvailable,
  publishTelemetry,
  startMosquitto,
  subscribe,
  waitFor,
} from '@pulse/test-support';
import { PulseHandle } from '../src/app/pulse';
import { ingestScenarios } from './support/ingest-scenarios';
import { startTestPulse } from './support/pulse';

// Real: Debian's mosquitto as the external broker (MQTT_URL), HTTP, Socket.IO, mqtt.js clients.
(mosquittoAvailable() ? describe : describe.skip)(
  'ingest through an external mosquitto broker',
  () => {
    let mosquitto: Mosquitto;
    let pulse: PulseHandle;

    beforeAll(async () => {
      mosquitto = await startMosquitto();
      pulse = await startTestPulse({ MQTT_URL: mosquitto.url });
    });

    afterAll(async () => {
      await pulse?.close();
      await mosquitto?.stop();
    });

    it('reports the external broker as connected', async () => {
      const stats = await (await fetch(`${pulse.httpUrl}/api/stats`)).json();
      expect(stats.broker).toMatchObject({
        mode: 'external',
        url: mosquitto.url,
        connected: true,
      });
    });

    ingestScenarios(() => ({
      httpUrl: pulse.httpUrl,
      brokerUrl: mosquitto.url,
    }));

    it('reconnects after the broker restarts, resubscribes and tells clients about both changes', async () => {
      const socket = await connectLive(pulse.httpUrl);
      const statuses: GatewayStatus[] = [];
      socket.on('gateway', (status) => statuses.push(status));
      await subscribe(socket, { devices: ['after-restart'] });
      const received = collectReadings(socket);

      await mosquitto.stop();
      await waitFor(() => statuses.some((s) => s.broker === 'disconnected'), {
        message: 'gateway disconnected',
      });
      mosquitto = await startMosquitto(mosquitto.port); // persistence off: the session is gone, so Pulse must resubscribe
      await waitFor(() => statuses.some((s) => s.broker === 'connected'), {
        timeoutMs: 15_000,
        message: 'gateway reconnected',
      });

      const device = await connectMqtt(mosquitto.url);
      await publishTelemetry(device, 'after-restart', { values: { a: 1 } });
      await received.waitForCount(1);
      await endMqtt(device);
      await closeLive(socket);
      const stats = (await getJson<IngestStats>(`${pulse.httpUrl}/api/stats`)).body;
      expect(stats.broker).toMatchObject({ connected: true, reconnects: 1 });
    });

    it('receives QoS 1 readings published while the gateway was down (persistent session)', async () => {
      await pulse.close();
      const device = await connectMqtt(mosquitto.url);
      const t0 = Date.now() - 5000;
      for (let i = 0; i < 3; i++)
        await publishTelemetry(device, 'while-down', { ts: t0 + i, values: { a: i } });
      await endMqtt(device);

      pulse = await startTestPulse({ MQTT_URL: mosquitto.url });
      const history = await waitFor(
        async () => {
          const response = await getJson<{ series: { t: number[] }[] }>(
            `${pulse.httpUrl}/api/devices/while-down/history`,
          );
          return response.status === 200 && response.body.series[0]?.t.length === 3
            ? response.body.series[0]
            : null;
        },
        { message: 'queued readings delivered' },
      );
      expect(history.t).toEqual([t0, t0 + 1, t0 + 2]);
    });
  },
);
