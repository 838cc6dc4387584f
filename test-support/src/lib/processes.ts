/**
 * Pulse's built programs as child processes, the way users run them: the backend bundle
 * (`dist/backend/main.js`) and the simulator CLI (`dist/simulator/main.js`), with their output
 * kept for failure messages. Owns the processes it starts; never builds anything (the Nx test
 * targets depend on the builds) and never imports an app's source.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './wait';

/** Workspace root (test-support/src/lib → ../../..). */
export const WORKSPACE_ROOT = join(__dirname, '..', '..', '..');
export const BACKEND_MAIN = join(WORKSPACE_ROOT, 'dist', 'backend', 'main.js');
export const SIMULATOR_MAIN = join(WORKSPACE_ROOT, 'dist', 'simulator', 'main.js');

/** What a process wrote is kept up to this many characters (the newest). */
const OUTPUT_LIMIT = 20_000;

export interface NodeProcess {
  child: ChildProcess;
  /** Everything written to stdout so far (the newest OUTPUT_LIMIT characters). */
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved as they arrived. */
  output: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface SpawnOptions {
  /** Added to this process's environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** Own process group, so `process.kill(-pid)` takes its children with it. */
  detached?: boolean;
}

/** `node <script> ...args` with stdout and stderr captured. */
export function spawnNode(
  script: string,
  args: string[] = [],
  options: SpawnOptions = {},
): NodeProcess {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: options.cwd ?? WORKSPACE_ROOT,
    detached: options.detached ?? false,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  const run: NodeProcess = {
    child,
    stdout: '',
    stderr: '',
    output: '',
    exit: new Promise((done) => child.once('exit', (code, signal) => done({ code, signal }))),
  };
  const keep = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
    const text = chunk.toString();
    run[stream] = (run[stream] + text).slice(-OUTPUT_LIMIT);
    run.output = (run.output + text).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', keep('stdout'));
  child.stderr?.on('data', keep('stderr'));
  return run;
}

function requireBuilt(main: string, project: string): void {
  if (!existsSync(main))
    throw new Error(`${main} is missing: run "npx nx build ${project}" (the test targets do)`);
}

export interface Backend {
  httpUrl: string;
  mqttUrl: string;
  /** The gateway's own pid (its children are in its process group). */
  pid: number;
  /** Crash it: SIGKILL to its whole process group (gateway and simulator child). */
  kill(): Promise<void>;
  /** A clean stop: SIGTERM to the gateway (it stops its own children), then wait for its exit. */
  stop(): Promise<void>;
  /** Its exit, however it comes (a stop, a kill, a signal the test sent itself). */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** Password of user `admin` in every backend startBuiltBackend starts (PULSE_ADMIN_PASSWORD). */
export const E2E_ADMIN_PASSWORD = 'e2e-admin-password';

/**
 * Start `node dist/backend/main.js` with the embedded broker and the simulator, on the given
 * ports, and wait until `/api/health` answers. `env` overrides the defaults below: state in a
 * fresh temp DATA_DIR (pass the same DATA_DIR to a restart to keep users and sessions), user
 * `admin` seeded with E2E_ADMIN_PASSWORD.
 */
export async function startBuiltBackend(
  ports: { http: number; mqtt: number },
  env: Record<string, string> = {},
): Promise<Backend> {
  requireBuilt(BACKEND_MAIN, 'backend');
  const run = spawnNode(BACKEND_MAIN, [], {
    // Own process group, so a kill takes the simulator child with it.
    detached: true,
    env: {
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
      DATA_DIR: mkdtempSync(join(tmpdir(), 'pulse-e2e-')),
      PULSE_ADMIN_PASSWORD: E2E_ADMIN_PASSWORD,
      ...env,
    },
  });
  const { child } = run;
  const killGroup = () => {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  const httpUrl = `http://127.0.0.1:${ports.http}`;
  await waitFor(
    async () => {
      if (child.exitCode !== null)
        throw new Error(`backend exited with ${child.exitCode}:\n${run.output}`);
      return (await fetch(`${httpUrl}/api/health`)).ok;
    },
    { timeoutMs: 30_000, intervalMs: 200, message: 'the backend to answer /api/health' },
  ).catch((error: Error) => {
    killGroup();
    throw new Error(`${error.message}\n${run.output}`);
  });
  return {
    httpUrl,
    mqttUrl: `mqtt://127.0.0.1:${ports.mqtt}`,
    pid: child.pid ?? 0,
    exit: run.exit,
    output: () => run.output,
    kill: async () => {
      killGroup();
      await run.exit;
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await run.exit;
    },
  };
}

export interface SimulatorProcess extends NodeProcess {
  /** SIGTERM (the CLI publishes offline and disconnects), then wait for the exit. */
  stop(): Promise<void>;
}

/** Start the built simulator CLI (`node dist/simulator/main.js ...args`). */
export function startSimulatorCli(args: string[]): SimulatorProcess {
  requireBuilt(SIMULATOR_MAIN, 'simulator');
  const run = spawnNode(SIMULATOR_MAIN, args);
  return Object.assign(run, {
    stop: async () => {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGTERM');
      await run.exit;
    },
  });
}
