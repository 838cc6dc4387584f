import type { CredentialIdentity } from '../../security/broker-auth';
import { sourceRouterOf } from './source-router.provider';
import { loadSources } from './source-spec';

// The router as app.module builds it, with a stand-in for DeviceCredentialsService.
describe('the source router of the app', () => {
  const credentials = () => {
    const listeners: ((identity: CredentialIdentity) => void)[] = [];
    const held = new Set(['held-1']);
    return {
      isReserved: (id: string) => held.has(id),
      onCredentialsChanged: (l: (identity: CredentialIdentity) => void) => listeners.push(l),
      create: (deviceId: string) => {
        held.add(deviceId);
        for (const l of listeners) l({ kind: 'device', deviceId });
      },
    };
  };
  const announce = (ids: string) =>
    JSON.stringify({ stat_t: 'house/hall', dev: { ids }, uniq_id: 'e' });
  const sources = loadSources('homeassistant', undefined);

  it('on the embedded broker, never maps an id with credentials, and ends one that gets them', () => {
    const held = credentials();
    const sut = sourceRouterOf({ MQTT_URL: undefined }, sources, held);
    sut.route('homeassistant/sensor/n/e/config', announce('held-1'), 0);
    expect(sut.deviceOf('house/hall')).toBeNull();
    sut.route('homeassistant/sensor/n/e/config', announce('victim'), 0);
    expect(sut.deviceOf('house/hall')).toBe('victim');
    held.create('victim');
    expect(sut.deviceOf('house/hall')).toBeNull();
  });

  it('with an external broker (MQTT_URL), where device credentials mean nothing, reserves no id', () => {
    const held = credentials();
    const sut = sourceRouterOf({ MQTT_URL: 'mqtt://broker:1883' }, sources, held);
    sut.route('homeassistant/sensor/n/e/config', announce('held-1'), 0);
    expect(sut.deviceOf('house/hall')).toBe('held-1');
  });
});
