import type { DeviceInfo } from '@pulse/protocol';
import {
  connectMqtt,
  getJson,
  NodeProcess,
  SIMULATOR_MAIN,
  spawnNode,
  startSimulatorCli,
  waitFor,
} from '@pulse/test-support';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceCredentialsService } from '../src/app/device-credentials/device-credentials.service';
import { simulatedFleet, SIMULATOR_USERNAME } from '../src/app/simulator/simulator-identity';
import { SimulatorRepository } from '../src/app/simulator/simulator.repository';
import { adminAuth, userToken, usePulse } from './support/pulse';
import { watchDevices } from './support/viewer';

jest.setTimeout(60_000);

/** `node dist/simulator/main.js credentials ...args`, run to its end. */
async function credentialsCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<NodeProcess> {
  const run = spawnNode(SIMULATOR_MAIN, ['credentials', ...args], {
    env: { PULSE_TOKEN: '', ...env },
  });
  await run.exit;
  return run;
}

// Real: the backend in this process (embedded Aedes, admin API, SQLite) with anonymous devices
// off; the built simulator CLI as a child process, both as the admin's credentials tool and as
// a fleet connecting with per-device secrets; the backend's own simulator child.
describe('device credentials from the simulator CLI, anonymous devices off', () => {
  const fixture = usePulse({ env: { ANONYMOUS_DEVICES: 'false' } });
  const dir = mkdtempSync(join(tmpdir(), 'pulse-devcreds-cli-'));
  let token: string;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeAll(async () => {
    token = (await adminAuth(fixture.pulse.httpUrl)).authorization.replace('Bearer ', '');
  });

  const status = async (deviceId: string): Promise<string | undefined> =>
    (await getJson<DeviceInfo>(fixture.api(`/devices/${deviceId}`))).body.status;

  it('creates a secret (printed once), runs a device with it, lists and revokes it', async () => {
    const url = fixture.pulse.httpUrl;
    const created = await credentialsCli(['create', 'cli-001', '--url', url], {
      PULSE_TOKEN: token,
    });
    expect(await created.exit).toEqual({ code: 0, signal: null });
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toContain('shown once');
    expect(created.stderr).not.toContain(secret);

    const secretsFile = join(dir, 'fleet.credentials');
    writeFileSync(secretsFile, `# id:secret\ncli-001:${secret}\n`, { mode: 0o600 });
    const viewer = await watchDevices(url, ['cli-001']);
    const fleet = startSimulatorCli([
      '--url',
      fixture.pulse.mqttUrl,
      '--devices',
      '1',
      '--prefix',
      'cli',
      '--rate',
      '5',
      '--credentials-file',
      secretsFile,
      '--quiet',
    ]);
    try {
      await viewer.received.waitForCount(3);
      await waitFor(async () => (await status('cli-001')) === 'online');

      // The token may come from a file as well; the list shows when the device last connected.
      const tokenFile = join(dir, 'token');
      writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
      const listed = await credentialsCli(['list', '--url', url, '--token-file', tokenFile]);
      expect(await listed.exit).toEqual({ code: 0, signal: null });
      expect(listed.stdout).toMatch(/^cli-001 +\d{4}-\S+ +\d{4}-\S+$/m);

      const revoked = await credentialsCli(['revoke', 'cli-001', '--url', url], {
        PULSE_TOKEN: token,
      });
      expect(await revoked.exit).toEqual({ code: 0, signal: null });
      // Disconnected at once: its Last Will marks it offline, and its reconnects are refused.
      await waitFor(async () => (await status('cli-001')) === 'offline', { timeoutMs: 3000 });
      const afterRevoke = viewer.received.readings.length;
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(viewer.received.readings.length).toBe(afterRevoke);
    } finally {
      await fleet.stop();
      await viewer.close();
    }
    expect(fleet.output).not.toContain(secret);
  });

  it('makes a bridge credential zigbee2mqtt connects with, lists and revokes it', async () => {
    const url = fixture.pulse.httpUrl;
    const created = await credentialsCli(['bridge', 'create', 'house', '--url', url], {
      PULSE_TOKEN: token,
    });
    expect(await created.exit).toEqual({ code: 0, signal: null });
    const secret = created.stdout.trim();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toContain('MQTT username bridge:house');

    const z2m = await connectMqtt(fixture.pulse.mqttUrl, {
      clientId: 'z2m-house',
      username: 'bridge:house',
      password: secret,
    });
    z2m.on('error', () => undefined);
    const gone = new Promise<void>((resolve) => z2m.once('close', () => resolve()));
    const listed = await credentialsCli(['bridge', 'list', '--url', url], { PULSE_TOKEN: token });
    // The client id it owns is listed: the one an admin compares a refused CONNECT's with.
    expect(listed.stdout).toMatch(/^bridge +username +client id +created +last connect$/m);
    expect(listed.stdout).toMatch(/^house +bridge:house +z2m-house +\d{4}-\S+ +\d{4}-\S+$/m);
    const revoked = await credentialsCli(['bridge', 'revoke', 'house', '--url', url], {
      PULSE_TOKEN: token,
    });
    expect(await revoked.exit).toEqual({ code: 0, signal: null });
    await gone;
    z2m.end(true);
  });

  it('refuses without an admin token, and never takes one from the command line', async () => {
    const url = fixture.pulse.httpUrl;
    const none = await credentialsCli(['create', 'cli-002', '--url', url]);
    expect(await none.exit).toEqual({ code: 2, signal: null });
    expect(none.stderr).toContain('set PULSE_TOKEN or pass --token-file');
    const flag = await credentialsCli(['create', 'cli-002', '--url', url, '--token', token]);
    expect(await flag.exit).toEqual({ code: 2, signal: null });
    expect(flag.stderr).toContain("Unknown option '--token'");

    const viewer = await userToken(url, 'viewer-cli', 'viewer');
    const forbidden = await credentialsCli(['create', 'cli-002', '--url', url], {
      PULSE_TOKEN: viewer,
    });
    expect(await forbidden.exit).toEqual({ code: 1, signal: null });
    expect(forbidden.stderr).toContain('answered 403');
    expect(forbidden.stdout).toBe('');
  });

  it("runs the built-in simulator as its own identity, limited to its fleet's ids", async () => {
    const sut = new SimulatorRepository();
    const password = fixture.pulse.app
      .get(DeviceCredentialsService)
      .registerService(SIMULATOR_USERNAME, simulatedFleet(2));
    const viewer = await watchDevices(fixture.pulse.httpUrl, ['sim-001', 'sim-002']);
    sut.start({
      mqttUrl: fixture.pulse.mqttUrl,
      devices: 2,
      rate: 5,
      script: SIMULATOR_MAIN,
      login: { username: SIMULATOR_USERNAME, password, dir },
    });
    try {
      const readings = await viewer.received.waitForCount(6);
      expect(new Set(readings.map((r) => r.deviceId))).toEqual(new Set(['sim-001', 'sim-002']));
      const [file] = readdirSync(dir).filter((name) => name.endsWith('.secret'));
      expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600);
      expect(readFileSync(join(dir, file), 'utf8').trim()).toBe(password);
    } finally {
      await sut.stop();
      await viewer.close();
    }
    // The password file goes with the child.
    expect(readdirSync(dir).filter((name) => name.endsWith('.secret'))).toEqual([]);
    // Outside its fleet the same identity is refused: the broker closes the connection.
    const outside = await connectMqtt(fixture.pulse.mqttUrl, {
      username: SIMULATOR_USERNAME,
      password,
    });
    outside.on('error', () => undefined);
    const gone = new Promise<void>((resolve) => outside.once('close', () => resolve()));
    outside.publish('devices/sim-003/telemetry', '{"values":{"n":1}}', { qos: 1 });
    await gone;
    outside.end(true);
  });
});
