/**
 * Debian's mosquitto as a private external broker for tests: started on a free loopback port
 * with a generated throwaway config, stopped and cleaned up. Owns that process and its temp
 * folder; never touches a system-wide mosquitto service.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './net';

export const MOSQUITTO_BIN = process.env['MOSQUITTO_BIN'] ?? '/usr/sbin/mosquitto';
export const MOSQUITTO_MISSING = 'mosquitto not installed: apt-get install -y mosquitto';

export interface Mosquitto {
  url: string;
  port: number;
  stop(): Promise<void>;
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

/** Start a private mosquitto on a free loopback port (or `port`, e.g. to restart one) with a throwaway config. */
export async function startMosquitto(port?: number): Promise<Mosquitto> {
  if (!existsSync(MOSQUITTO_BIN)) throw new Error(MOSQUITTO_MISSING);
  port ??= await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'pulse-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, mosquittoConfig(port));
  const child: ChildProcess = spawn(MOSQUITTO_BIN, ['-c', conf], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(port);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mosquitto did not start: ${String(error)}\n${stderr}`);
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Loopback only, anonymous, no persistence (a restart loses sessions), errors on stderr. */
function mosquittoConfig(port: number): string {
  return [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'log_dest stderr',
    'log_type error',
    '',
  ].join('\n');
}
