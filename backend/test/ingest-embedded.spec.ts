import { ingestScenarios } from './support/ingest-scenarios';
import { usePulse } from './support/pulse';

// Real: HTTP, Socket.IO (both transports), embedded Aedes, mqtt.js ingest and device clients.
describe('ingest through the embedded broker', () => {
  const backend = usePulse();

  ingestScenarios(() => ({
    httpUrl: backend.pulse.httpUrl,
    brokerUrl: backend.pulse.mqttUrl,
    brokerRefuses: true,
  }));
});
