/**
 * Debian's mosquitto as a private external broker for tests: started on a free loopback port
 * with a generated throwaway config (optionally users, ACL, packet bound, TLS listener), stopped
 * and cleaned up. Owns that process and its temp
 * folder; never touches a system-wide mosquitto service.
 */
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './net';

export const MOSQUITTO_BIN = process.env['MOSQUITTO_BIN'] ?? '/usr/sbin/mosquitto';
export const MOSQUITTO_PASSWD_BIN =
  process.env['MOSQUITTO_PASSWD_BIN'] ?? '/usr/bin/mosquitto_passwd';
export const MOSQUITTO_MISSING = 'mosquitto not installed: apt-get install -y mosquitto';

export interface Mosquitto {
  url: string;
  port: number;
  /** `mqtts://127.0.0.1:port` with `tls`, else null. */
  tlsUrl: string | null;
  stop(): Promise<void>;
}

export interface MosquittoOptions {
  /** Listen here (e.g. to restart one); default a free port. */
  port?: number;
  /** Users and passwords: written with `mosquitto_passwd`, and anonymous access turned off. */
  users?: Record<string, string>;
  /** ACL file content (`pattern write devices/%u/#`, `user x` / `topic read ...`). */
  acl?: string;
  /** `max_packet_size` in bytes: bigger packets close the sender's connection. */
  maxPacketSize?: number;
  /** `max_queued_messages` per client session (Mosquitto's default: 1,000; beyond, it drops). */
  maxQueuedMessages?: number;
  /** A second listener with TLS (PEM files) on a free port. */
  tls?: { certFile: string; keyFile: string };
}

/**
 * Whether tests needing mosquitto should run. Missing binary: skip with one
 * line, except under CI=true where the test must fail instead (it runs and
 * `startMosquitto` throws).
 */
export function mosquittoAvailable(): boolean {
  if (existsSync(MOSQUITTO_BIN)) return true;
  if (process.env['CI'] === 'true') return true;
  console.warn(MOSQUITTO_MISSING);
  return false;
}

/**
 * Start a private mosquitto on a free loopback port with a throwaway config; a number is the
 * port (e.g. to restart one), options add users, an ACL, a packet bound and a TLS listener.
 */
export async function startMosquitto(options: number | MosquittoOptions = {}): Promise<Mosquitto> {
  if (!existsSync(MOSQUITTO_BIN)) throw new Error(MOSQUITTO_MISSING);
  const opts = typeof options === 'number' ? { port: options } : options;
  const port = opts.port ?? (await freePort());
  const tlsPort = opts.tls ? await freePort() : null;
  const dir = mkdtempSync(join(tmpdir(), 'pulse-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  const lines = [`listener ${port} 127.0.0.1`];
  if (opts.tls && tlsPort !== null) {
    lines.push(
      `listener ${tlsPort} 127.0.0.1`,
      `certfile ${opts.tls.certFile}`,
      `keyfile ${opts.tls.keyFile}`,
    );
  }
  if (opts.users) {
    const passwords = join(dir, 'passwords');
    writeFileSync(passwords, '');
    for (const [user, password] of Object.entries(opts.users)) {
      execFileSync(MOSQUITTO_PASSWD_BIN, ['-b', passwords, user, password]);
    }
    lines.push('allow_anonymous false', `password_file ${passwords}`);
  } else lines.push('allow_anonymous true');
  if (opts.acl !== undefined) {
    writeFileSync(join(dir, 'acl'), opts.acl);
    lines.push(`acl_file ${join(dir, 'acl')}`);
  }
  if (opts.maxPacketSize !== undefined) lines.push(`max_packet_size ${opts.maxPacketSize}`);
  if (opts.maxQueuedMessages !== undefined)
    lines.push(`max_queued_messages ${opts.maxQueuedMessages}`);
  // As root, mosquitto drops to its own user and could not read this 0700 folder.
  if (process.getuid?.() === 0) lines.push('user root');
  writeFileSync(conf, mosquittoConfig(lines));
  const child: ChildProcess = spawn(MOSQUITTO_BIN, ['-c', conf], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(port);
    if (tlsPort !== null) await waitForPort(tlsPort);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mosquitto did not start: ${String(error)}\n${stderr}`);
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    tlsUrl: tlsPort === null ? null : `mqtts://127.0.0.1:${tlsPort}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Loopback only, no persistence (a restart loses sessions), errors on stderr. */
function mosquittoConfig(lines: string[]): string {
  return [...lines, 'persistence false', 'log_dest stderr', 'log_type error', ''].join('\n');
}
