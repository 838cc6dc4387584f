import { Inject, Injectable } from '@nestjs/common';
import { jwtVerify, SignJWT } from 'jose';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFileOnce } from '../common/owner-only-file';
import { CONFIG, Config, StartupError } from '../config/config';
import type { TokenKind } from './users.repository';

/**
 * Signs and verifies Pulse's JWTs (jose, HS256) with the key from PULSE_SECRET_FILE or
 * `${DATA_DIR}/secret.key` (generated on first start, mode 0600). Owns the key and the token
 * format; must not decide whether a verified token is still valid (revocation, disabled users:
 * AuthService checks the `tokens` row of its `jti`).
 */

export const SECRET_KEY_FILE = 'secret.key';
/** HS256 wants a key at least as long as the hash (RFC 7518 §3.2). */
const MIN_KEY_BYTES = 32;
const ISSUER = 'pulse';

/** What a JWT is: a user's session or bearer token (a `tokens` row), or a screen's display token. */
export type SignedKind = TokenKind | 'screen';

export interface TokenClaims {
  /** Username; the screen's id for a display token. */
  sub: string;
  jti: string;
  kind: SignedKind;
}

export function loadSigningKey(config: Pick<Config, 'DATA_DIR' | 'PULSE_SECRET_FILE'>): Uint8Array {
  const file = config.PULSE_SECRET_FILE ?? join(config.DATA_DIR, SECRET_KEY_FILE);
  if (config.PULSE_SECRET_FILE === undefined && !existsSync(file)) createKeyOnce(file);
  let key: Buffer;
  try {
    key = Buffer.from(readFileSync(file, 'utf8').trim(), 'utf8');
  } catch (error) {
    throw new StartupError(
      `Cannot read the token signing key ${file}: ${(error as Error).message}`,
    );
  }
  if (key.length < MIN_KEY_BYTES)
    throw new StartupError(
      `The token signing key ${file} is too short: at least ${MIN_KEY_BYTES} bytes (e.g. \`openssl rand -hex 32\`)`,
    );
  return new Uint8Array(key);
}

/** A new random key at `file`, unless another process made one first (createFileOnce). */
export function createKeyOnce(file: string): void {
  createFileOnce(file, `${randomBytes(MIN_KEY_BYTES).toString('hex')}\n`);
}

@Injectable()
export class TokenSigner {
  private readonly key: Uint8Array;

  constructor(@Inject(CONFIG) config: Pick<Config, 'DATA_DIR' | 'PULSE_SECRET_FILE'>) {
    this.key = loadSigningKey(config);
  }

  sign(claims: TokenClaims, expiresAt: number): Promise<string> {
    return new SignJWT({ kind: claims.kind })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setSubject(claims.sub)
      .setJti(claims.jti)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt / 1000))
      .sign(this.key);
  }

  /** The claims of a well-signed, unexpired Pulse token; null for anything else. */
  async verify(token: string): Promise<TokenClaims | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
      });
      const { sub, jti, kind } = payload;
      if (typeof sub !== 'string' || typeof jti !== 'string') return null;
      if (kind !== 'session' && kind !== 'token' && kind !== 'screen') return null;
      return { sub, jti, kind };
    } catch {
      return null;
    }
  }
}
