import { selfSignedCertificate, TestCertificate } from '@pulse/test-support';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './config';
import { readMqttClientAuth, readRedisPassword, redactUrl } from './secret-files';

// Real files: a certificate openssl makes for this file, a password file, broken PEM.
describe('TLS and broker credential files at boot', () => {
  let sut: TestCertificate;
  let other: TestCertificate;
  const issuesOf = (env: Record<string, string>): string[] => {
    try {
      loadConfig(env);
    } catch (error) {
      if (error instanceof ConfigError) return error.issues;
      throw error;
    }
    return [];
  };

  beforeAll(() => {
    sut = selfSignedCertificate();
    other = selfSignedCertificate();
    writeFileSync(join(sut.dir, 'garbage.pem'), 'not a certificate\n');
    writeFileSync(join(sut.dir, 'password'), 's3cret-pw\n');
    writeFileSync(join(sut.dir, 'empty'), '\n');
  });

  afterAll(() => {
    sut?.remove();
    other?.remove();
  });

  it('accepts a certificate and its key, and defaults MQTT_TLS_PORT to 8883', () => {
    const config = loadConfig({ TLS_CERT_FILE: sut.certFile, TLS_KEY_FILE: sut.keyFile });
    expect(config.TLS_CERT_FILE).toBe(sut.certFile);
    expect(config.MQTT_TLS_PORT).toBe(8883);
  });

  it('lists every problem at once: half a pair, unreadable, not PEM, wrong key', () => {
    expect(issuesOf({ TLS_CERT_FILE: sut.certFile })).toEqual([
      'TLS_CERT_FILE/TLS_KEY_FILE: set both or neither',
    ]);
    const issues = issuesOf({
      PORT: 'x',
      TLS_CERT_FILE: join(sut.dir, 'garbage.pem'),
      TLS_KEY_FILE: join(sut.dir, 'missing.pem'),
      MQTT_CERT_FILE: sut.certFile,
      MQTT_KEY_FILE: other.keyFile,
      MQTT_CA_FILE: join(sut.dir, 'garbage.pem'),
    });
    expect(issues).toEqual([
      expect.stringMatching(/^PORT: /),
      `TLS_KEY_FILE: cannot read ${join(sut.dir, 'missing.pem')} (ENOENT)`,
      `TLS_CERT_FILE: ${join(sut.dir, 'garbage.pem')} is not a PEM certificate (or the key has a passphrase)`,
      `MQTT_KEY_FILE: ${other.keyFile} is not the key of ${sut.certFile}`,
      `MQTT_CA_FILE: ${join(sut.dir, 'garbage.pem')} is not a PEM certificate (or the key has a passphrase)`,
    ]);
  });

  it('refuses MQTT_URL with a password, pointing to MQTT_PASSWORD_FILE, without repeating it', () => {
    const issues = issuesOf({ MQTT_URL: 'mqtt://gw:hunter2@broker:1883' });
    expect(issues).toEqual([expect.stringContaining('MQTT_PASSWORD_FILE')]);
    expect(issues.join('\n')).not.toContain('hunter2');
    expect(issuesOf({ MQTT_URL: 'mqtt://gw@broker:1883' })).toEqual([]);
  });

  it('reads the password file (first line) and needs MQTT_USERNAME with it', () => {
    const password = join(sut.dir, 'password');
    expect(issuesOf({ MQTT_PASSWORD_FILE: password })).toEqual([
      'MQTT_PASSWORD_FILE: needs MQTT_USERNAME',
    ]);
    expect(issuesOf({ MQTT_USERNAME: 'gw', MQTT_PASSWORD_FILE: join(sut.dir, 'empty') })).toEqual([
      `MQTT_PASSWORD_FILE: ${join(sut.dir, 'empty')} is empty`,
    ]);
    const config = loadConfig({ MQTT_USERNAME: 'gw', MQTT_PASSWORD_FILE: password });
    expect(JSON.stringify(config)).not.toContain('s3cret-pw');
    const auth = readMqttClientAuth(config);
    expect(auth.username).toBe('gw');
    expect(auth.password?.toString()).toBe('s3cret-pw');
  });

  it('takes REDIS_URL with or without a password, redacts it for printing, and reads REDIS_PASSWORD_FILE', () => {
    expect(issuesOf({ REDIS_URL: 'http://cache:6379' })).toEqual([
      expect.stringMatching(/^REDIS_URL: must be a URL like redis:/),
    ]);
    const withPassword = loadConfig({ REDIS_URL: 'redis://pulse:hunter2@cache:6379/0' });
    expect(redactUrl(withPassword.REDIS_URL as string)).toBe('redis://pulse:***@cache:6379/0');
    expect(redactUrl('rediss://:hunter2@cache:6380')).toBe('rediss://:***@cache:6380');
    expect(issuesOf({ REDIS_PASSWORD_FILE: join(sut.dir, 'password') })).toEqual([
      'REDIS_PASSWORD_FILE: needs REDIS_URL',
    ]);
    expect(
      issuesOf({ REDIS_URL: 'redis://cache:6379', REDIS_PASSWORD_FILE: join(sut.dir, 'empty') }),
    ).toEqual([`REDIS_PASSWORD_FILE: ${join(sut.dir, 'empty')} is empty`]);
    const config = loadConfig({
      REDIS_URL: 'redis://cache:6379',
      REDIS_PASSWORD_FILE: join(sut.dir, 'password'),
    });
    expect(readRedisPassword(config)).toBe('s3cret-pw');
    expect(config.MQTT_SHARED_GROUP).toBe('pulse');
  });
});
