/**
 * The backend under test, booted in this jest process from its source (real HTTP, Socket.IO,
 * ingest, history, alert engine and embedded Aedes unless MQTT_URL), and the per-file fixture
 * most backend integration specs share. Lives here, not in @pulse/test-support, because it
 * imports backend source; generic client and broker helpers belong in that library instead.
 */
import type { CreateTokenResponse, Role } from '@pulse/protocol';
import {
  connectMqtt,
  endMqtt,
  LiveClient,
  liveClients,
  sendJson,
  Transport,
} from '@pulse/test-support';
import type { MqttClient } from 'mqtt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Config, loadConfig } from '../../src/app/config/config';
import { PulseHandle, startPulse } from '../../src/app/pulse';

/** The password of user `admin`, seeded in every test backend (PULSE_ADMIN_PASSWORD). */
export const TEST_ADMIN_PASSWORD = 'test-admin-password';

/**
 * Boot the real backend in this process on free ports with the simulator off, the overload
 * throttle off, its state in a fresh temp DATA_DIR (removed on close) and user `admin` seeded
 * with TEST_ADMIN_PASSWORD
 * (pass `PULSE_ADMIN_PASSWORD: ''` for a first start without users).
 */
export async function startTestPulse(
  env: Record<string, string> = {},
  overrides: Partial<Config> = {},
): Promise<PulseHandle> {
  const dataDir = env.DATA_DIR ? null : mkdtempSync(join(tmpdir(), 'pulse-data-'));
  const config = loadConfig(
    {
      PORT: '0',
      MQTT_PORT: '0',
      SIMULATOR: 'off',
      LOG_LEVEL: 'error',
      FLUSH_MS: '20',
      // The gateway shares this process's event loop with the test's own clients and publishers
      // (and a loaded CI machine inflates it): its overload throttle would merge readings a
      // test counts one by one. gateway-overload.spec.ts turns it on.
      OVERLOAD_ELU: 'off',
      // Tests poll history with waitFor every 20 ms, as no screen does: the per-client budget of
      // history reads (300 per 10 s) would refuse a poll that waits longer than ~6 s.
      // read-budget.spec.ts sets its own.
      API_READ_BUDGET: '1000000',
      PULSE_ADMIN_PASSWORD: TEST_ADMIN_PASSWORD,
      ...(dataDir ? { DATA_DIR: dataDir } : {}),
      ...env,
    },
    { DASHBOARD_DIR: '/nonexistent/pulse-dashboard', ...overrides },
  );
  const removeData = () => dataDir && rmSync(dataDir, { recursive: true, force: true });
  let pulse: PulseHandle;
  try {
    pulse = await startPulse(config);
  } catch (error) {
    removeData();
    throw error;
  }
  return {
    ...pulse,
    close: async () => {
      await pulse.close();
      removeData();
    },
  };
}

/** Sign in over `POST /api/auth/login`; the session cookie (`pulse_session=…`) of the response. */
export async function login(httpUrl: string, username: string, password: string): Promise<string> {
  const response = await fetch(`${httpUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const cookie = response.headers.get('set-cookie')?.split(';')[0];
  if (response.status !== 200 || !cookie)
    throw new Error(`login as ${username}: ${response.status} ${await response.text()}`);
  return cookie;
}

/** A bearer token for `username` (signed in with `password`), as `POST /api/auth/tokens` returns it. */
export async function tokenFor(
  httpUrl: string,
  username: string,
  password: string,
  request: { name?: string; ttlSeconds?: number; groups?: string[] } = {},
): Promise<CreateTokenResponse> {
  const cookie = await login(httpUrl, username, password);
  const { status, body } = await sendJson<CreateTokenResponse>(
    `${httpUrl}/api/auth/tokens`,
    'POST',
    { name: 'test', ...request },
    { cookie },
  );
  if (status !== 201) throw new Error(`token for ${username}: ${status} ${JSON.stringify(body)}`);
  return body;
}

/** `Authorization` header of the seeded admin (a fresh bearer token). */
export async function adminAuth(httpUrl: string): Promise<{ authorization: string }> {
  const { token } = await tokenFor(httpUrl, 'admin', TEST_ADMIN_PASSWORD);
  return { authorization: `Bearer ${token}` };
}

/** Create a user with `role` (as the admin) and return a bearer token of it. */
export async function userToken(httpUrl: string, username: string, role: Role): Promise<string> {
  const password = `${username}-password`;
  const created = await sendJson(
    `${httpUrl}/api/users`,
    'POST',
    { username, password, role },
    await adminAuth(httpUrl),
  );
  if (created.status !== 201) throw new Error(`create ${username}: ${created.status}`);
  return (await tokenFor(httpUrl, username, password)).token;
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
