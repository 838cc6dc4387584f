import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CredentialIdentity } from '../security/broker-auth';
import { Database } from '../store/database';
import { BridgeCredentialsService } from './bridge-credentials.service';
import { DeviceCredentialsRepository } from './device-credentials.repository';
import { anonymousDevicesOf, DeviceCredentialsService } from './device-credentials.service';

// Real: SQLite in a temp DATA_DIR, reopened to show what survives a restart.
describe('DeviceCredentialsService', () => {
  let dir: string;
  let database: Database | undefined;
  const open = (env: { MQTT_URL?: string } = {}) => {
    const opened = new Database({ DATA_DIR: dir });
    database = opened;
    const repo = new DeviceCredentialsRepository(opened);
    return new DeviceCredentialsService(
      { HOST: '127.0.0.1', ANONYMOUS_DEVICES: undefined, ...env },
      repo,
      new BridgeCredentialsService(env, repo),
    );
  };
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'pulse-devcreds-'))));
  afterEach(() => {
    database?.onApplicationShutdown();
    database = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('anonymous devices default to on only for a loopback HOST', () => {
    expect(anonymousDevicesOf({ HOST: '127.0.0.1', ANONYMOUS_DEVICES: undefined })).toBe(true);
    expect(anonymousDevicesOf({ HOST: 'localhost', ANONYMOUS_DEVICES: undefined })).toBe(true);
    expect(anonymousDevicesOf({ HOST: '0.0.0.0', ANONYMOUS_DEVICES: undefined })).toBe(false);
    expect(anonymousDevicesOf({ HOST: '127.0.0.1', ANONYMOUS_DEVICES: false })).toBe(false);
    expect(anonymousDevicesOf({ HOST: '0.0.0.0', ANONYMOUS_DEVICES: true })).toBe(true);
  });

  it('identifies a device by its current secret, across a restart, until revoked', () => {
    const sut = open();
    const told: CredentialIdentity[] = [];
    sut.onCredentialsChanged((identity) => told.push(identity));
    const first = sut.create('dev-1');
    const second = sut.create('dev-1');
    expect(second.rotated).toBe(true);
    // Created and rotated alike: discovery ends what it took for the id before (decision 0067).
    expect(told).toEqual([
      { kind: 'device', deviceId: 'dev-1' },
      { kind: 'device', deviceId: 'dev-1' },
    ]);
    expect(sut.identify('dev-1', first.secret)).toBeNull();
    expect(sut.identify('dev-1', second.secret)).toEqual({ kind: 'device', deviceId: 'dev-1' });
    sut.connected({ kind: 'device', deviceId: 'dev-1' }, 'dev-1');
    sut.onModuleDestroy();
    database?.onApplicationShutdown();

    const restarted = open();
    expect(restarted.identify('dev-1', second.secret)).toEqual({
      kind: 'device',
      deviceId: 'dev-1',
    });
    expect(restarted.list().credentials[0].lastConnectAt).toEqual(expect.any(Number));
    const closed: CredentialIdentity[] = [];
    restarted.onCredentialsChanged((identity) => closed.push(identity));
    expect(restarted.revoke('dev-1')).toBe(true);
    expect(restarted.revoke('dev-2')).toBe(false);
    expect(closed).toEqual([{ kind: 'device', deviceId: 'dev-1' }]);
    expect(restarted.identify('dev-1', second.secret)).toBeNull();
    // Revoked, the id stays reserved for its device.
    expect(restarted.isReserved('dev-1')).toBe(true);
    expect(restarted.isReserved('dev-2')).toBe(false);
    // Revoked once: a second revoke finds none to revoke (404, as a bridge's), keeps the time
    // of the first and tells nobody again.
    const revokedAt = restarted.list().credentials[0].revokedAt;
    expect(restarted.revoke('dev-1')).toBe(false);
    expect(restarted.list().credentials[0].revokedAt).toBe(revokedAt);
    expect(closed).toHaveLength(1);
  });

  it('keeps service identities in memory only, each with its own secret', () => {
    const sut = open();
    const secret = sut.registerService('pulse:simulator', (id) => id === 'sim-001');
    expect(sut.identify('pulse:simulator', secret)).toMatchObject({
      kind: 'service',
      name: 'pulse:simulator',
    });
    expect(sut.identify('pulse:simulator', `${secret}x`)).toBeNull();
    expect(sut.list().credentials).toEqual([]);
  });

  it("refuses credentials for an id one of Pulse's own clients publishes for (the built-in simulator's)", () => {
    const sut = open();
    sut.registerService('pulse:simulator', (id) => id === 'sim-001');
    // Credentials would lock the simulator out, and a revoked id stays reserved for good.
    expect(() => sut.create('sim-001')).toThrow(/published by Pulse's own pulse:simulator/);
    expect(sut.isReserved('sim-001')).toBe(false);
    expect(sut.create('sim-002').deviceId).toBe('sim-002');
  });

  it('refuses to create credentials an external broker would never check', () => {
    const sut = open({ MQTT_URL: 'mqtt://broker:1883' });
    expect(() => sut.create('dev-1')).toThrow(/embedded broker/);
  });
});
