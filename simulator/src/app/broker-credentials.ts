import { readFileSync } from 'node:fs';
import { DeviceSecrets, readDeviceSecrets } from './device-credentials-file';

/**
 * The simulator's broker credentials: `--username` / `MQTT_USERNAME`, `--password-file` /
 * `MQTT_PASSWORD_FILE`, `--ca-file` / `MQTT_CA_FILE` (flags win), or one identity per device
 * with `--credentials-file` (device-credentials-file.ts). Owns reading those files;
 * must not connect or log: the password is never in argv (only the path of its file) and never
 * in a message (they name the flag and the path).
 */
export interface BrokerCredentials {
  username: string | null;
  /** First line of the password file. */
  password: string | null;
  /** PEM CA bundle for mqtts:// / wss:// brokers with a private CA. */
  ca: Buffer | null;
  /** `--credentials-file`: each device connects as its id with its own secret. */
  deviceSecrets: DeviceSecrets | null;
}

export const NO_CREDENTIALS: BrokerCredentials = {
  username: null,
  password: null,
  ca: null,
  deviceSecrets: null,
};

export interface CredentialFlags {
  username?: string;
  'password-file'?: string;
  'ca-file'?: string;
  'credentials-file'?: string;
}

/** Credentials from flags and environment, or one error line per problem. */
export function readBrokerCredentials(
  flags: CredentialFlags,
  env: NodeJS.ProcessEnv,
): { ok: true; credentials: BrokerCredentials } | { ok: false; errors: string[] } {
  const pick = (flag: keyof CredentialFlags, name: string): string | undefined => {
    const value = flags[flag] ?? env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const errors: string[] = [];
  const read = (flag: string, path: string | undefined): Buffer | null => {
    if (path === undefined) return null;
    try {
      return readFileSync(path);
    } catch (error) {
      errors.push(`--${flag}: cannot read ${path} (${(error as NodeJS.ErrnoException).code})`);
      return null;
    }
  };
  const username = pick('username', 'MQTT_USERNAME') ?? null;
  const passwordData = read('password-file', pick('password-file', 'MQTT_PASSWORD_FILE'));
  const password = passwordData ? passwordData.toString('utf8').split(/\r?\n/)[0] : null;
  const ca = read('ca-file', pick('ca-file', 'MQTT_CA_FILE'));
  if (password !== null && username === null)
    errors.push('--password-file needs --username (or MQTT_USERNAME)');
  if (password === '') errors.push('--password-file: the file is empty');
  let deviceSecrets: DeviceSecrets | null = null;
  const secretsPath = flags['credentials-file'];
  if (secretsPath !== undefined) {
    if (username !== null)
      errors.push('--credentials-file gives every device its own username: drop --username');
    const read = readDeviceSecrets(secretsPath);
    if (read.ok) deviceSecrets = read.secrets;
    else errors.push(...read.errors);
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, credentials: { username, password, ca, deviceSecrets } };
}
