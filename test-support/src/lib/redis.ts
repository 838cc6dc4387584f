/**
 * Debian's redis-server as a private Redis for tests: a free loopback port, no persistence, its
 * own temp folder, stopped and cleaned up. Owns that process and folder; never touches a
 * system-wide Redis service.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './net';

export const REDIS_SERVER_BIN = process.env['REDIS_SERVER_BIN'] ?? 'redis-server';

export interface RedisServer {
  /** `redis://127.0.0.1:port`. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * Start redis-server on a free loopback port, or on `port` (the same one again, after a stop:
 * a Redis outage), `requirepass` with `password`. Empty: nothing persisted.
 */
export async function startRedis(
  options: { password?: string; port?: number } = {},
): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'pulse-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    ...(options.password ? ['--requirepass', options.password] : []),
  ];
  const child: ChildProcess = spawn(REDIS_SERVER_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', (error) => (output += String(error)));
  try {
    await waitForPort(port);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`redis-server did not start: ${String(error)}\n${output}`);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
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
