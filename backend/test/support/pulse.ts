import { Config, loadConfig } from '../../src/app/config/config';
import { PulseHandle, startPulse } from '../../src/app/pulse';

/**
 * Boot the real backend in this process on free ports with the simulator off.
 * Real: HTTP, Socket.IO, ingest, history, embedded Aedes (unless MQTT_URL).
 */
export function startTestPulse(
  env: Record<string, string> = {},
  overrides: Partial<Config> = {},
): Promise<PulseHandle> {
  const config = loadConfig(
    {
      PORT: '0',
      MQTT_PORT: '0',
      SIMULATOR: 'off',
      LOG_LEVEL: 'error',
      FLUSH_MS: '20',
      ...env,
    },
    { DASHBOARD_DIR: '/nonexistent/pulse-dashboard', ...overrides },
  );
  return startPulse(config);
}
