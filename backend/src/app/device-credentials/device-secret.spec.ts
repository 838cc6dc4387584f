import { deviceSecretMatches, hashDeviceSecret, newDeviceSecret } from './device-secret';

describe('device secrets', () => {
  it('are 256 random bits in base64url, different every time', () => {
    const secrets = new Set(Array.from({ length: 100 }, newDeviceSecret));
    expect(secrets.size).toBe(100);
    for (const secret of secrets) expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('are kept as a hash that matches the secret and nothing else', () => {
    const secret = newDeviceSecret();
    const hash = hashDeviceSecret(secret);
    expect(hash).not.toContain(secret);
    expect(deviceSecretMatches(hash, secret)).toBe(true);
    expect(deviceSecretMatches(hash, `${secret}x`)).toBe(false);
    expect(deviceSecretMatches(hash, '')).toBe(false);
    expect(deviceSecretMatches('argon2id$whatever', secret)).toBe(false);
    expect(deviceSecretMatches('sha256:abcd', secret)).toBe(false);
  });
});
