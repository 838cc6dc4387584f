import { PulseHandle } from '../src/app/pulse';
import { ingestScenarios } from './support/ingest-scenarios';
import { startTestPulse } from './support/pulse';

// Real: HTTP, Socket.IO (both transports), embedded Aedes, mqtt.js ingest and device clients.
describe('ingest through the embedded broker', () => {
  let pulse: PulseHandle;

  beforeAll(async () => {
    pulse = await startTestPulse();
  });

  afterAll(async () => {
    await pulse?.close();
  });

  ingestScenarios(() => ({
    httpUrl: pulse.httpUrl,
    brokerUrl: pulse.mqttUrl,
    brokerRefuses: true,
  }));
});
