/**
 * A throwaway self-signed certificate for TLS tests, made with Debian's `openssl` in a temp
 * folder (CN localhost, SAN localhost + 127.0.0.1 unless other names are given, valid one day).
 * Owns that folder; the caller removes it with `remove()`. Never touches a system certificate store.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const OPENSSL_MISSING = 'openssl not installed: apt-get install -y openssl';

export interface TestCertificate {
  dir: string;
  certFile: string;
  keyFile: string;
  /** The certificate's PEM: trust it as the CA (`ca`) of a client. */
  cert: string;
  remove(): void;
}

/** `names`: host names and IP addresses the certificate is for, the first one its CN. */
export function selfSignedCertificate(
  names: readonly string[] = ['localhost', '127.0.0.1'],
): TestCertificate {
  const altNames = names.map((name) => (isIP(name) ? `IP:${name}` : `DNS:${name}`)).join(',');
  const dir = mkdtempSync(join(tmpdir(), 'pulse-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '1',
        '-subj',
        `/CN=${names[0]}`,
        '-addext',
        `subjectAltName=${altNames}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`${OPENSSL_MISSING}\n${String(error)}`);
  }
  return {
    dir,
    certFile,
    keyFile,
    cert: readFileSync(certFile, 'utf8'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
