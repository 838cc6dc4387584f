import { telemetryTopic } from '@pulse/protocol';
import {
  connectLive,
  connectMqtt,
  endMqtt,
  publish,
  selfSignedCertificate,
  TestCertificate,
  Transport,
} from '@pulse/test-support';
import mqtt from 'mqtt';
import { IncomingHttpHeaders, request as httpRequest } from 'node:http';
import https from 'node:https';
import { PulseHandle } from '../src/app/pulse';
import { startTestPulse } from './support/pulse';
import { watchDevices } from './support/viewer';

// Real: a certificate openssl makes for this file, Nest's HTTPS server with Socket.IO on both
// transports (socket.io-client trusting that certificate as its CA), the embedded broker's
// mqtts listener and an mqtt.js device over TLS.
describe('TLS: HTTPS/WSS on PORT and mqtts on the embedded broker', () => {
  let certificate: TestCertificate;
  let pulse: PulseHandle;

  beforeAll(async () => {
    certificate = selfSignedCertificate();
    pulse = await startTestPulse({
      TLS_CERT_FILE: certificate.certFile,
      TLS_KEY_FILE: certificate.keyFile,
      MQTT_TLS_PORT: '0',
    });
  });

  afterAll(async () => {
    await pulse?.close();
    certificate?.remove();
  });

  it('serves the API over HTTPS', () => {
    expect(pulse.httpUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(pulse.mqttsUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
  });

  it('tells browsers to stay on HTTPS (HSTS)', async () => {
    const headers = await new Promise<IncomingHttpHeaders>((resolve, reject) => {
      https
        .get(`${pulse.httpUrl}/api/health`, { ca: certificate.cert }, (response) => {
          response.resume();
          resolve(response.headers);
        })
        .on('error', reject);
    });
    expect(headers['strict-transport-security']).toBe('max-age=31536000');
  });

  it.each<Transport>(['websocket', 'polling'])(
    'delivers a reading published over mqtts to a viewer over %s (wss/https)',
    async (transport) => {
      const viewer = await watchDevices(pulse.httpUrl, [`tls-${transport}`], transport, {
        ca: certificate.cert,
      });
      const device = await connectMqtt(pulse.mqttsUrl ?? '', {
        ca: certificate.cert,
        servername: 'localhost',
      });
      await publish(device, telemetryTopic(`tls-${transport}`), '{"values":{"t":21.5}}', 1);
      const readings = await viewer.received.waitForCount(1);
      expect(readings[0]).toMatchObject({ deviceId: `tls-${transport}`, values: { t: 21.5 } });
      await endMqtt(device);
      await viewer.close();
    },
  );

  it('refuses a client that does not trust the certificate', async () => {
    await expect(connectLive(pulse.httpUrl, ['websocket'])).rejects.toThrow();
    await expect(connectMqtt(pulse.mqttsUrl ?? '')).rejects.toThrow(/self.signed/i);
  });

  it('does not serve plain HTTP on the TLS port', async () => {
    const port = new URL(pulse.httpUrl).port;
    const outcome = await new Promise<string>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/api/health' }, (res) =>
        resolve(`served ${res.statusCode}`),
      );
      req.on('error', (error) => resolve(`refused: ${error.message}`));
      req.setTimeout(5000, () => req.destroy(new Error('timeout')));
      req.end();
    });
    expect(outcome).toMatch(/^refused/);
  });

  it('does not speak plain MQTT on the mqtts port', async () => {
    const port = new URL(pulse.mqttsUrl ?? '').port;
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      reconnectPeriod: 0,
      connectTimeout: 3000,
    });
    const outcome = await new Promise<string>((resolve) => {
      client.once('connect', () => resolve('connected'));
      client.once('close', () => resolve('closed'));
      client.once('error', () => resolve('closed'));
    });
    client.end(true);
    expect(outcome).toBe('closed');
  });
});
