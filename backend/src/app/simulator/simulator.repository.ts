import { Injectable, Logger } from '@nestjs/common';
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SIMULATOR_PREFIX, simulatedFleet } from './simulator-identity';
import { clearStaleSimulator, removePidFile, writePidFile } from './simulator-pid-file';

/** The simulator bundle beside the backend bundle (`dist/backend` → `dist/simulator/main.js`). */
const defaultSimulatorScript = (bundleDir: string = __dirname): string =>
  join(bundleDir, '../simulator/main.js');

/**
 * Runs the built-in device simulator as a child process (SIMULATOR=on), so a
 * busy simulator never steals the gateway's event loop.
 *
 * The child never outlives the gateway: it is spawned with an IPC channel and exits when the
 * channel closes or its parent pid changes (simulator `parent-watch.ts`), and its pid is kept in
 * `${DATA_DIR}/simulator.pid`, so a gateway started on the same data ends a stale one first
 * (`simulator-pid-file.ts`; one whose gateway still runs is left alone).
 *
 * Owns the child process only (spawn, SIGTERM then SIGKILL); must not decide when or with
 * what it runs (PulseRuntime passes the SIMULATOR_* config) nor import simulator source: it
 * talks to the built CLI through its flags, and to broker credentials through the variables
 * it is given, forwarded in the child's environment (never read or put in argv here).
 */
@Injectable()
export class SimulatorRepository {
  private readonly logger = new Logger('Simulator');
  private child: ChildProcess | null = null;
  /** The devices of the running child's fleet (its ids), or null when none runs. */
  private devices: ((deviceId: string) => boolean) | null = null;
  private loginFile: string | null = null;
  /** `simulator.pid` and the child it records. */
  private pidFile: { file: string; pid: number } | null = null;

  start(options: {
    mqttUrl: string;
    devices: number;
    rate: number;
    dropout?: number;
    offline?: number;
    script?: string;
    /**
     * Broker credentials for the child (MQTT_USERNAME, MQTT_PASSWORD_FILE, MQTT_CA_FILE): passed
     * in its environment, which only this user can read, never in its argv, which `ps` shows
     * to everyone. The password itself stays in its file.
     */
    credentials?: Record<string, string | undefined>;
    /**
     * Embedded broker: the simulator's own identity (simulator-identity.ts). The secret goes in
     * a 0600 file in `dir` (DATA_DIR), named to the child as MQTT_PASSWORD_FILE, and is
     * removed when the child stops.
     */
    login?: { username: string; password: string; dir: string };
    /** Where `simulator.pid` is kept (DATA_DIR): a restart on the same data ends a stale child. */
    pidDir?: string;
  }): void {
    const script = options.script ?? defaultSimulatorScript();
    if (!existsSync(script)) {
      this.logger.warn(
        `simulator not found at ${script}: build it with \`npx nx build simulator\` (or set SIMULATOR=off)`,
      );
      return;
    }
    const args = [
      script,
      '--url',
      options.mqttUrl,
      '--devices',
      String(options.devices),
      '--rate',
      String(options.rate),
      // The built-in fleet behaves like a real one: now and then a reading is lost and a
      // device drops off the network for a while (Last Will), so the default alert rules
      // and the dashboard's stale/offline states are seen in a demo, not only in tests.
      '--dropout',
      String(options.dropout ?? 0),
      '--offline',
      String(options.offline ?? 0),
      '--prefix',
      SIMULATOR_PREFIX,
      '--quiet',
    ];
    if (options.pidDir) {
      const stale = clearStaleSimulator(options.pidDir);
      if (stale) this.logger.warn(stale);
    }
    const env: NodeJS.ProcessEnv = { ...process.env };
    const credentials = { ...options.credentials, ...this.writeLogin(options.login) };
    for (const [name, value] of Object.entries(credentials)) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    const child = spawn(process.execPath, args, {
      // The IPC channel is the child's lifeline: the OS closes it however this process dies.
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env,
    });
    this.child = child;
    this.devices = simulatedFleet(options.devices);
    // Nothing is sent over it; it must not keep this process alive either.
    child.channel?.unref();
    if (options.pidDir && child.pid)
      this.pidFile = {
        file: writePidFile(options.pidDir, child.pid, script, this.loginFile),
        pid: child.pid,
      };
    this.logger.log(
      `simulator started (pid ${child.pid}): ${options.devices} devices at ${options.rate}/s`,
    );
    child.on('error', (error) => this.logger.error(`simulator: ${error.message}`));
    child.on('exit', (code, signal) => {
      if (this.child === child) {
        this.child = null;
        this.devices = null;
        this.removePidFile();
        this.logger.warn(`simulator exited (${signal ?? `code ${code}`})`);
      }
    });
  }

  /** The password file of `login` (a fresh name per process, only this user may read it). */
  private writeLogin(login?: { username: string; password: string; dir: string }) {
    if (!login) return {};
    const file = join(login.dir, `simulator-${process.pid}.secret`);
    rmSync(file, { force: true });
    writeFileSync(file, `${login.password}\n`, { mode: 0o600, flag: 'wx' });
    this.loginFile = file;
    return { MQTT_USERNAME: login.username, MQTT_PASSWORD_FILE: file, MQTT_CA_FILE: undefined };
  }

  private removePidFile(): void {
    if (this.pidFile) removePidFile(this.pidFile.file, this.pidFile.pid);
    this.pidFile = null;
  }

  /** The fleet of the running simulator (its device ids), or null when none runs. */
  fleet(): ((deviceId: string) => boolean) | null {
    return this.devices;
  }

  /** SIGTERM (the simulator publishes `offline` for its devices), then SIGKILL after 3 s. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    this.devices = null;
    if (this.loginFile) rmSync(this.loginFile, { force: true });
    this.loginFile = null;
    this.removePidFile();
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, 3000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
