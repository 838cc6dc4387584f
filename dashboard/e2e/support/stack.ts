import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** Workspace root (dashboard/e2e/support → ../../..). */
export const ROOT = join(__dirname, '..', '..', '..');
export const BACKEND_MAIN = join(ROOT, 'dist', 'backend', 'main.js');

/** A free TCP port on loopback (closed again before use; fine for tests). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Poll `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => Promise<T> | T,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what} (last: ${String(last)})`,
      );
    await sleep(200);
  }
}

export interface Backend {
  httpUrl: string;
  mqttUrl: string;
  /** Crash it: SIGKILL to its whole process group (gateway and simulator child). */
  kill(): Promise<void>;
  output(): string;
}

/**
 * Start `node dist/backend/main.js` with the embedded broker and the
 * simulator, on the given ports, and wait until `/api/health` answers.
 */
export async function startBackend(
  ports: { http: number; mqtt: number },
  env: Record<string, string> = {},
): Promise<Backend> {
  if (!existsSync(BACKEND_MAIN))
    throw new Error(`${BACKEND_MAIN} is missing: run "npx nx build backend" (the e2e target does)`);
  let output = '';
  const child: ChildProcess = spawn(process.execPath, [BACKEND_MAIN], {
    cwd: ROOT,
    // Own process group, so a kill takes the simulator child with it.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: String(ports.http),
      HOST: '127.0.0.1',
      MQTT_PORT: String(ports.mqtt),
      SIMULATOR: 'on',
      SIMULATOR_DEVICES: '6',
      SIMULATOR_RATE: '2',
      // A steady fleet: the tests decide when a device goes quiet or offline.
      SIMULATOR_DROPOUT: '0',
      SIMULATOR_OFFLINE: '0',
      LOG_LEVEL: 'warn',
      ...env,
    },
  });
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const httpUrl = `http://127.0.0.1:${ports.http}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null)
        throw new Error(`backend exited with ${child.exitCode}:\n${output}`);
      const res = await fetch(`${httpUrl}/api/health`);
      return res.ok;
    },
    30_000,
    'the backend to answer /api/health',
  ).catch((error) => {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
    throw new Error(`${(error as Error).message}\n${output}`);
  });
  return {
    httpUrl,
    mqttUrl: `mqtt://127.0.0.1:${ports.mqtt}`,
    output: () => output,
    kill: async () => {
      if (child.exitCode === null && child.pid) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      await exited;
    },
  };
}
