import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';

/**
 * The files the environment names for TLS and broker credentials: checked once at boot (readable,
 * PEM parses, pairs complete, key matches certificate) and read for the parts that use them.
 * Owns reading those files and nothing else: it opens no socket and decides no policy. Nothing
 * read here is ever put in an error or log line: messages name the variable and the path only.
 */

/** The variables this module reads files for (the values are paths). */
type FileVars =
  | 'TLS_CERT_FILE'
  | 'TLS_KEY_FILE'
  | 'MQTT_PASSWORD_FILE'
  | 'MQTT_CA_FILE'
  | 'MQTT_CERT_FILE'
  | 'MQTT_KEY_FILE'
  | 'MQTT_USERNAME'
  | 'MQTT_URL'
  | 'REDIS_URL'
  | 'REDIS_PASSWORD_FILE';
type FileEnv = Partial<Record<FileVars, string>>;

/** Certificate and key for the HTTPS server and the embedded broker's mqtts listener. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

/** What the gateway's mqtt.js client adds to its options for an external broker. */
export interface MqttClientAuth {
  username?: string;
  password?: Buffer;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** A URL's `user:password@` part has a password (a bare `user@` is allowed). */
export function urlHasPassword(url: string): boolean {
  try {
    return new URL(url).password !== '';
  } catch {
    return /\/\/[^/@]*:[^/@]*@/.test(url);
  }
}

/**
 * One `NAME: message` per problem with the files of `env` (raw strings, before the schema), so
 * a boot lists every one. Also refuses MQTT_URL with an embedded password: a URL is logged,
 * shown in /api/stats and process lists, a file is not (docs/decisions/0010).
 */
export function secretFileIssues(env: FileEnv): string[] {
  const issues: string[] = [];
  const read = (name: FileVars): Buffer | null => {
    const path = env[name];
    if (path === undefined) return null;
    try {
      return readFileSync(path);
    } catch (error) {
      issues.push(`${name}: cannot read ${path} (${(error as NodeJS.ErrnoException).code})`);
      return null;
    }
  };
  const pem = (name: FileVars, kind: 'certificate' | 'key', data: Buffer | null): boolean => {
    if (data === null) return false;
    try {
      if (kind === 'certificate') new X509Certificate(data);
      else createPrivateKey(data);
      return true;
    } catch {
      issues.push(`${name}: ${env[name]} is not a PEM ${kind} (or the key has a passphrase)`);
      return false;
    }
  };
  const pair = (certName: FileVars, keyName: FileVars): void => {
    if ((env[certName] === undefined) !== (env[keyName] === undefined)) {
      issues.push(`${certName}/${keyName}: set both or neither`);
    }
    const cert = read(certName);
    const key = read(keyName);
    if (pem(certName, 'certificate', cert) && pem(keyName, 'key', key) && cert && key) {
      try {
        createSecureContext({ cert, key });
      } catch {
        issues.push(`${keyName}: ${env[keyName]} is not the key of ${env[certName]}`);
      }
    }
  };

  pair('TLS_CERT_FILE', 'TLS_KEY_FILE');
  pair('MQTT_CERT_FILE', 'MQTT_KEY_FILE');
  pem('MQTT_CA_FILE', 'certificate', read('MQTT_CA_FILE'));
  const password = read('MQTT_PASSWORD_FILE');
  if (password !== null && passwordOf(password) === '') {
    issues.push(`MQTT_PASSWORD_FILE: ${env.MQTT_PASSWORD_FILE} is empty`);
  }
  if (env.MQTT_PASSWORD_FILE !== undefined && env.MQTT_USERNAME === undefined) {
    issues.push('MQTT_PASSWORD_FILE: needs MQTT_USERNAME');
  }
  if (env.MQTT_URL !== undefined && urlHasPassword(env.MQTT_URL)) {
    issues.push(
      'MQTT_URL: holds a password; remove it and set MQTT_USERNAME and MQTT_PASSWORD_FILE (a URL ends up in logs and process lists, a file does not)',
    );
  }
  const redisPassword = read('REDIS_PASSWORD_FILE');
  if (redisPassword !== null && passwordOf(redisPassword) === '') {
    issues.push(`REDIS_PASSWORD_FILE: ${env.REDIS_PASSWORD_FILE} is empty`);
  }
  if (env.REDIS_PASSWORD_FILE !== undefined && env.REDIS_URL === undefined) {
    issues.push('REDIS_PASSWORD_FILE: needs REDIS_URL');
  }
  return issues;
}

/** A URL without its password, for logs and /api/stats (`redis://u:***@host`). */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** The Redis password of REDIS_PASSWORD_FILE (validated by {@link secretFileIssues}), if set. */
export function readRedisPassword(config: FileEnv): string | undefined {
  return config.REDIS_PASSWORD_FILE
    ? passwordOf(readFileSync(config.REDIS_PASSWORD_FILE))
    : undefined;
}

/** The first line of a password file, without its line ending (what `echo secret > file` wrote). */
function passwordOf(data: Buffer): string {
  return data.toString('utf8').split(/\r?\n/)[0];
}

/** TLS certificate and key (validated by {@link secretFileIssues}), or null without TLS. */
export function readTlsMaterial(config: FileEnv): TlsMaterial | null {
  if (!config.TLS_CERT_FILE || !config.TLS_KEY_FILE) return null;
  return { cert: readFileSync(config.TLS_CERT_FILE), key: readFileSync(config.TLS_KEY_FILE) };
}

/** Credentials and TLS files of the gateway's mqtt.js client; empty when none are set. */
export function readMqttClientAuth(config: FileEnv): MqttClientAuth {
  const auth: MqttClientAuth = {};
  if (config.MQTT_USERNAME) auth.username = config.MQTT_USERNAME;
  if (config.MQTT_PASSWORD_FILE)
    auth.password = Buffer.from(passwordOf(readFileSync(config.MQTT_PASSWORD_FILE)), 'utf8');
  if (config.MQTT_CA_FILE) auth.ca = readFileSync(config.MQTT_CA_FILE);
  if (config.MQTT_CERT_FILE) auth.cert = readFileSync(config.MQTT_CERT_FILE);
  if (config.MQTT_KEY_FILE) auth.key = readFileSync(config.MQTT_KEY_FILE);
  return auth;
}
