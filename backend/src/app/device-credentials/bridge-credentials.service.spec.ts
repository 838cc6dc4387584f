import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CredentialIdentity } from '../security/broker-auth';
import { Database } from '../store/database';
import { BridgeCredentialsService, MAX_BRIDGE_CREDENTIALS } from './bridge-credentials.service';
import { DeviceCredentialsRepository } from './device-credentials.repository';
import { DeviceCredentialsService } from './device-credentials.service';

// Real: SQLite in a temp DATA_DIR, reopened to show what survives a restart; the broker's one
// authority (DeviceCredentialsService) in front, as the broker asks it.
describe('BridgeCredentialsService', () => {
  let dir: string;
  let database: Database | undefined;
  const open = (env: { MQTT_URL?: string } = {}) => {
    const opened = new Database({ DATA_DIR: dir });
    database = opened;
    const repo = new DeviceCredentialsRepository(opened);
    const sut = new BridgeCredentialsService(env, repo);
    const authority = new DeviceCredentialsService(
      { HOST: '0.0.0.0', ANONYMOUS_DEVICES: undefined, ...env },
      repo,
      sut,
    );
    return { sut, authority, repo };
  };
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'pulse-bridgecreds-'))));
  afterEach(() => {
    database?.onApplicationShutdown();
    database = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('identifies bridge:<name> by its current secret, across a restart, until revoked', () => {
    const { sut, authority } = open();
    const first = sut.create('house');
    expect(first).toMatchObject({ name: 'house', username: 'bridge:house', rotated: false });
    const second = sut.create('house');
    expect(second.rotated).toBe(true);
    expect(authority.identify('bridge:house', first.secret)).toBeNull();
    expect(authority.identify('bridge:house', second.secret)).toEqual({
      kind: 'bridge',
      name: 'house',
    });
    authority.connected({ kind: 'bridge', name: 'house' }, 'z2m-house');
    sut.onModuleDestroy();
    database?.onApplicationShutdown();

    const restarted = open();
    expect(restarted.authority.identify('bridge:house', second.secret)).toEqual({
      kind: 'bridge',
      name: 'house',
    });
    expect(restarted.sut.list().credentials).toEqual([
      {
        name: 'house',
        username: 'bridge:house',
        createdAt: second.createdAt,
        lastConnectAt: expect.any(Number),
        clientId: 'z2m-house', // listed: an admin sees which id it owns
      },
    ]);
    // The client id it connected with is still its own before it reconnects.
    expect(restarted.authority.ownerOfClientId('z2m-house')).toEqual({
      kind: 'bridge',
      name: 'house',
    });
    const closed: CredentialIdentity[] = [];
    restarted.authority.onCredentialsChanged((identity) => closed.push(identity));
    expect(restarted.sut.revoke('house')).toBe(true);
    expect(restarted.sut.revoke('house')).toBe(false);
    expect(closed).toEqual([{ kind: 'bridge', name: 'house' }]);
    expect(restarted.authority.identify('bridge:house', second.secret)).toBeNull();
    expect(restarted.authority.ownerOfClientId('z2m-house')).toBeNull();
    expect(restarted.sut.list().credentials).toEqual([]);
  });

  it("owns the client id a bridge last connected with; a device's own id stays the device's", () => {
    const { sut, authority } = open();
    sut.create('house');
    sut.create('shed');
    authority.connected({ kind: 'bridge', name: 'house' }, 'mqttjs_1a2b3c4d');
    authority.connected({ kind: 'bridge', name: 'house' }, 'z2m-house');
    authority.connected({ kind: 'bridge', name: 'shed' }, 'Shed_Plug');
    expect(authority.ownerOfClientId('mqttjs_1a2b3c4d')).toBeNull();
    expect(authority.ownerOfClientId('z2m-house')).toEqual({ kind: 'bridge', name: 'house' });
    expect(authority.ownerOfClientId('Shed_Plug')).toEqual({ kind: 'bridge', name: 'shed' });
    // Device credentials for it would take it from the bridge: refused, naming the bridge.
    expect(() => authority.create('Shed_Plug')).toThrow(/bridge:shed/);
    expect(authority.isReserved('Shed_Plug')).toBe(false);
    expect(authority.ownerOfClientId('Shed_Plug')).toEqual({ kind: 'bridge', name: 'shed' });
    // Once the bridge connects with another id, the old one is anyone's to have credentials for.
    authority.connected({ kind: 'bridge', name: 'shed' }, 'z2m-shed');
    authority.create('Shed_Plug');
    expect(authority.ownerOfClientId('Shed_Plug')).toEqual({
      kind: 'device',
      deviceId: 'Shed_Plug',
    });
    expect(authority.ownerOfClientId('nobody')).toBeNull();
  });

  it("keeps a bridge's client id the bridge's over device credentials made for it before the 409", () => {
    const { sut, authority, repo } = open();
    sut.create('house');
    authority.connected({ kind: 'bridge', name: 'house' }, 'z2m-house');
    // A row as an admin made it before creating one was refused: live, then revoked.
    repo.upsert('z2m-house', 'a'.repeat(64), Date.now());
    sut.onModuleDestroy();
    database?.onApplicationShutdown();

    const restarted = open();
    expect(restarted.authority.isReserved('z2m-house')).toBe(true);
    expect(restarted.authority.ownerOfClientId('z2m-house')).toEqual({
      kind: 'bridge',
      name: 'house',
    });
    restarted.authority.revoke('z2m-house');
    expect(restarted.authority.isReserved('z2m-house')).toBe(true);
    expect(restarted.authority.ownerOfClientId('z2m-house')).toEqual({
      kind: 'bridge',
      name: 'house',
    });
    // Rotating it stays possible (a leaked secret must be replaceable); the id stays the bridge's.
    expect(restarted.authority.create('z2m-house').rotated).toBe(true);
    expect(restarted.authority.ownerOfClientId('z2m-house')).toEqual({
      kind: 'bridge',
      name: 'house',
    });
  });

  it('never takes a bridge for a device, nor a device for a bridge, nor reserves an id', () => {
    const { sut, authority } = open();
    const bridge = sut.create('house');
    const device = authority.create('house');
    expect(authority.identify('house', bridge.secret)).toBeNull();
    expect(authority.identify('bridge:house', device.secret)).toBeNull();
    expect(authority.identify('house', device.secret)).toEqual({
      kind: 'device',
      deviceId: 'house',
    });
    expect(authority.identify('bridge:', bridge.secret)).toBeNull();
    expect(authority.isReserved('bridge:house')).toBe(false);
  });

  it(`holds at most ${MAX_BRIDGE_CREDENTIALS}; rotating one of them still works`, () => {
    const { sut } = open();
    for (let n = 0; n < MAX_BRIDGE_CREDENTIALS; n++) sut.create(`b-${n}`);
    expect(() => sut.create('one-more')).toThrow(/at most 100 bridges/);
    expect(sut.create('b-7').rotated).toBe(true);
    sut.revoke('b-7');
    expect(sut.create('one-more').rotated).toBe(false);
  });

  it('refuses to create credentials an external broker would never check', () => {
    const { sut } = open({ MQTT_URL: 'mqtt://broker:1883' });
    expect(() => sut.create('house')).toThrow(/embedded broker/);
  });
});
