import { hash, verify, type Algorithm } from '@node-rs/argon2';

// The package's Algorithm is a `const enum` that exists only in its types, so the value is written
// out; the type checks that 2 is Argon2id.
const ARGON2ID: Algorithm.Argon2id = 2;

/**
 * Password hashing: argon2id (@node-rs/argon2, native, off the event loop) with OWASP's
 * recommended minimum (19 MiB, 2 passes, 1 lane). Owns the hash format; must not decide who
 * may sign in (AuthService does).
 */
const OPTIONS = {
  algorithm: ARGON2ID,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/** False for a wrong password or a malformed hash (never throws on outside input). */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

let dummy: Promise<string> | null = null;
/**
 * Verify against a throwaway hash: an unknown username costs the same time as a wrong
 * password, so the login's timing does not tell which usernames exist.
 */
export async function burnVerify(password: string): Promise<false> {
  dummy ??= hashPassword('pulse-dummy-password-for-timing');
  await verifyPassword(await dummy, password);
  return false;
}
