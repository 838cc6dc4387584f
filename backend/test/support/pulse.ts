/**
 * The backend under test, booted in this jest process from its source (real HTTP, Socket.IO,
 * ingest, history, alert engine and embedded Aedes unless MQTT_URL), and the per-file fixture
 * most backend integration specs share. Lives here, not in @pulse/test-support, because it
 * imports backend source; generic client and broker helpers belong in that library instead.
 */
import { connectMqtt, endMqtt, LiveClient, liveClients, Transport } from '@pulse/test-support';
import type { MqttClient } from 'mqtt';
import { Config, loadConfig } from '../../src/app/config/config';
import { PulseHandle, startPulse } from '../../src/app/pulse';

/** Boot the real backend in this process on free ports with the simulator off. */
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

export interface PulseFixtureOptions {
  /** Environment of the backend; a function is called in beforeAll (after earlier hooks). */
  env?: Record<string, string> | (() => Record<string, string>);
  /** Also connect one mqtt.js client to the backend's broker, to publish as devices. */
  device?: boolean;
}

export interface PulseFixture {
  /** The backend, started before the first test and closed after the last. */
  readonly pulse: PulseHandle;
  /** The device client (with `device: true`), ended before the backend closes. */
  readonly device: MqttClient;
  /** A live client on the backend, closed after the test that opened it. */
  live(transports?: Transport[], setup?: (socket: LiveClient) => void): Promise<LiveClient>;
  /** Close this socket (made some other way) after the test too. */
  track(socket: LiveClient): LiveClient;
  /** `${httpUrl}/api${path}` */
  api(path: string): string;
}

/** Registers the hooks of one backend per spec file; call at the top of a `describe`. */
export function usePulse(options: PulseFixtureOptions = {}): PulseFixture {
  let pulse: PulseHandle | undefined;
  let device: MqttClient | undefined;
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not started (used outside a test?)`);
    return value;
  };
  const clients = liveClients(() => fixture.pulse.httpUrl);
  const fixture: PulseFixture = {
    get pulse() {
      return started(pulse, 'the backend');
    },
    get device() {
      return started(device, 'the device client (usePulse({ device: true }))');
    },
    live: clients.open,
    track: clients.track,
    api: (path) => `${fixture.pulse.httpUrl}/api${path}`,
  };

  beforeAll(async () => {
    const env = typeof options.env === 'function' ? options.env() : options.env;
    pulse = await startTestPulse(env);
    if (options.device) device = await connectMqtt(pulse.mqttUrl);
  });
  afterEach(() => clients.closeAll());
  afterAll(async () => {
    await clients.closeAll();
    if (device) await endMqtt(device);
    await pulse?.close();
  });
  return fixture;
}
