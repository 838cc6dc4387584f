/**
 * Debian's `mosquitto_sub` as a strict MQTT reader for tests: libmosquitto checks what it
 * receives against the protocol (in MQTT 5, a property that is not valid in a PUBLISH ends its
 * connection with "A network protocol error occurred"), where mqtt.js decodes whatever it can.
 * Owns the processes it starts; never touches a broker.
 */
import { spawn } from 'node:child_process';

export const MOSQUITTO_SUB_BIN = process.env['MOSQUITTO_SUB_BIN'] ?? '/usr/bin/mosquitto_sub';

/** One line `mosquitto_sub` printed, and when it arrived (`Date.now()`). */
export interface SubLine {
  text: string;
  at: number;
}

export interface MosquittoSub {
  /** The lines printed so far (one per message, in `-F`'s format if given). */
  readonly lines: SubLine[];
  /** Its exit: code 0 after `-C` messages; 2 on a protocol error, 27 on `-W`'s timeout. */
  readonly exit: Promise<{ code: number | null; stderr: string }>;
  /** Ends it if still running (SIGTERM), and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * Start `mosquitto_sub -h <host> -p <port> ...args` against the broker at `url`
 * (`mqtt://host:port`). Give it `-C` (exit after that many messages) and `-W` (a timeout in
 * seconds) so it never outlives the test.
 */
export function mosquittoSub(url: string, args: string[]): MosquittoSub {
  const { hostname, port } = new URL(url);
  const child = spawn(MOSQUITTO_SUB_BIN, ['-h', hostname, '-p', port, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: SubLine[] = [];
  let partial = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const at = Date.now();
    const parts = (partial + chunk.toString()).split('\n');
    partial = parts.pop() ?? '';
    for (const text of parts) lines.push({ text, at });
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) => {
    // A missing binary: no exit event, only this one.
    child.once('error', (error) => resolve({ code: null, stderr: error.message }));
    child.once('close', (code) => resolve({ code, stderr }));
  });
  return {
    lines,
    exit,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exit;
    },
  };
}
