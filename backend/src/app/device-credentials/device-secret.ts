import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Device secrets: made here (256 random bits, base64url, 43 characters) and kept only as a
 * SHA-256 digest. Not argon2 like user passwords: a slow hash protects guessable secrets, and
 * these are never chosen by a person; at ~17 ms and 19 MiB per argon2id check, a reconnect
 * storm of 1,000 devices would hold the CONNACKs for ~15 s on two cores
 * (docs/decisions/0012-device-credentials.md). Owns the secret and hash formats only.
 */
const SECRET_BYTES = 32;
const PREFIX = 'sha256:';

export function newDeviceSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

export function hashDeviceSecret(secret: string): string {
  return PREFIX + digest(secret).toString('hex');
}

/** Constant-time comparison of a presented secret with a stored hash (false for a bad hash). */
export function deviceSecretMatches(hash: string, secret: string): boolean {
  if (!hash.startsWith(PREFIX)) return false;
  const expected = Buffer.from(hash.slice(PREFIX.length), 'hex');
  const actual = digest(secret);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}
