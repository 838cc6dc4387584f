import type { IngestStats } from '@pulse/protocol';
import { statusTopic, telemetryTopic } from '@pulse/protocol';
import {
  connectMqtt,
  endMqtt,
  getJson,
  Mosquitto,
  mosquittoAvailable,
  publish,
  SIMULATOR_MAIN,
  startMosquitto,
} from '@pulse/test-support';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PulseHandle } from '../src/app/pulse';
import { SimulatorRepository } from '../src/app/simulator/simulator.repository';
import { captureLogs } from './support/logs';
import { startTestPulse } from './support/pulse';
import { watchDevices } from './support/viewer';

const GATEWAY_PASSWORD = 'gw-Pa55-never-shown';
const SIMULATOR_PASSWORD = 'sim-Pa55-never-shown';
const USERS = {
  gateway: GATEWAY_PASSWORD,
  simulator: SIMULATOR_PASSWORD,
  'dev-a': 'dev-a-pw',
  'dev-b': 'dev-b-pw',
};
// The compose file's ACL, plus a user for the built-in simulator's whole fleet.
const ACL = [
  'user gateway',
  'topic read devices/#',
  'user simulator',
  'topic write devices/#',
  '',
  'pattern write devices/%u/#',
  '',
].join('\n');

// Real: Debian's mosquitto with a password file, an ACL file and max_packet_size; the gateway's
// mqtt.js client with MQTT_USERNAME + MQTT_PASSWORD_FILE; mqtt.js devices; Socket.IO viewers;
// the built simulator CLI as the gateway's child process, read through /proc.
(mosquittoAvailable() ? describe : describe.skip)('external broker with credentials', () => {
  let mosquitto: Mosquitto;
  let pulse: PulseHandle;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-broker-credentials-'));
    writeFileSync(join(dir, 'gateway'), `${GATEWAY_PASSWORD}\n`);
    writeFileSync(join(dir, 'simulator'), `${SIMULATOR_PASSWORD}\n`);
    writeFileSync(join(dir, 'wrong'), 'not-the-password\n');
    mosquitto = await startMosquitto({ users: USERS, acl: ACL, maxPacketSize: 66_560 });
    pulse = await startTestPulse({
      MQTT_URL: mosquitto.url,
      MQTT_USERNAME: 'gateway',
      MQTT_PASSWORD_FILE: join(dir, 'gateway'),
    });
  });

  afterAll(async () => {
    await pulse?.close();
    await mosquitto?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const device = (user: keyof typeof USERS) =>
    connectMqtt(mosquitto.url, { username: user, password: USERS[user], clientId: user });

  it('ingests a device through the broker and shows no secret in /api/stats', async () => {
    const stats = await getJson<IngestStats>(`${pulse.httpUrl}/api/stats`);
    expect(stats.body.broker).toMatchObject({ mode: 'external', connected: true });
    expect(JSON.stringify(stats.body)).not.toContain(GATEWAY_PASSWORD);

    const viewer = await watchDevices(pulse.httpUrl, ['dev-a']);
    const { received } = viewer;
    const devA = await device('dev-a');
    for (let n = 0; n < 5; n++)
      await publish(devA, telemetryTopic('dev-a'), `{"values":{"n":${n}}}`, 1);
    const readings = await received.waitForCount(5);
    expect(readings.map((r) => r.values['n'])).toEqual([0, 1, 2, 3, 4]);
    await endMqtt(devA);
    await viewer.close();
  });

  it('does not let dev-a publish under devices/dev-b/ (ACL pattern write devices/%u/#)', async () => {
    const viewer = await watchDevices(pulse.httpUrl, ['dev-a', 'dev-b']);
    const { received } = viewer;
    const devA = await device('dev-a');
    await publish(devA, telemetryTopic('dev-b'), '{"values":{"spoofed":1}}', 1);
    await publish(devA, statusTopic('dev-b'), 'offline', 1, true);
    await publish(devA, telemetryTopic('dev-a'), '{"values":{"marker":1}}', 1);
    const readings = await received.waitForCount(1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(received.readings.map((r) => r.deviceId)).toEqual(['dev-a']);
    expect(readings[0].values).toEqual({ marker: 1 });
    await endMqtt(devA);
    await viewer.close();
  });

  it("refuses an oversize packet with mosquitto's max_packet_size (the sender is disconnected)", async () => {
    const devA = await device('dev-a');
    const closed = new Promise<void>((resolve) => devA.once('close', () => resolve()));
    devA.publish(telemetryTopic('dev-a'), Buffer.alloc(70 * 1024, 0x20), { qos: 1 });
    await closed;
    devA.end(true);
    const devB = await device('dev-b'); // the broker itself is fine
    await endMqtt(devB);
  });

  it('with a wrong password reports the broker disconnected and logs why, without the secret', async () => {
    let wrong: PulseHandle | undefined;
    const logs = await captureLogs(async () => {
      wrong = await startTestPulse({
        MQTT_URL: mosquitto.url,
        MQTT_CLIENT_ID: 'pulse-wrong',
        MQTT_USERNAME: 'gateway',
        MQTT_PASSWORD_FILE: join(dir, 'wrong'),
        LOG_LEVEL: 'warn',
      });
    });
    if (!wrong) throw new Error('the gateway did not start');
    try {
      const stats = await getJson<IngestStats>(`${wrong.httpUrl}/api/stats`);
      expect(stats.body.broker).toMatchObject({ connected: false });
      expect(logs).toMatch(
        /broker refused to connect as MQTT_USERNAME \\?"gateway\\?".*MQTT_PASSWORD_FILE/,
      );
      expect(logs).not.toContain('not-the-password');
      expect(JSON.stringify(stats.body)).not.toContain('not-the-password');
    } finally {
      await wrong?.close();
    }
  });

  it('gives the simulator child its credentials in the environment, never in argv', async () => {
    const sut = new SimulatorRepository();
    const viewer = await watchDevices(pulse.httpUrl, ['sim-001']);
    const { received } = viewer;
    sut.start({
      mqttUrl: mosquitto.url,
      devices: 2,
      rate: 5,
      script: SIMULATOR_MAIN,
      credentials: { MQTT_USERNAME: 'simulator', MQTT_PASSWORD_FILE: join(dir, 'simulator') },
    });
    try {
      await received.waitForCount(3);
      // This test's own child: other specs (in other Jest workers) run simulators too.
      const pid = readdirSync('/proc').find((entry) => {
        if (!/^\d+$/.test(entry)) return false;
        try {
          const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
          const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          return (
            parent === process.pid &&
            readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(SIMULATOR_MAIN)
          );
        } catch {
          return false;
        }
      });
      expect(pid).toBeDefined();
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      expect(argv).toContain('--url');
      expect(argv.join(' ')).not.toMatch(/sim-Pa55|password|username/i);
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      expect(environ).toContain('MQTT_USERNAME=simulator');
      expect(environ).toContain(`MQTT_PASSWORD_FILE=${join(dir, 'simulator')}`);
    } finally {
      await sut.stop();
      await viewer.close();
    }
  });
});
