import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  clearStaleSimulator,
  removePidFile,
  SIMULATOR_PID_FILE,
  writePidFile,
} from './simulator-pid-file';

// Real processes (Linux /proc): a stand-in simulator is a node script that idles, spawned by this
// jest worker, which plays its gateway. The gateway-level cases, with built gateways and their
// real simulator children: test/restart-children.spec.ts.
describe('simulator.pid: only a simulator whose gateway is gone is ended', () => {
  let dir: string;
  let script: string;
  const children: ChildProcess[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pulse-pid-file-'));
    script = join(dir, 'idle-simulator.js');
    writeFileSync(script, 'setInterval(() => undefined, 1000);\n');
  });

  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  /** A running stand-in simulator, child of this process; resolves once it runs the script. */
  async function simulator(): Promise<{ child: ChildProcess; exit: Promise<unknown> }> {
    const child = spawn(process.execPath, [script], { stdio: 'ignore' });
    children.push(child);
    const exit = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    await new Promise((resolve) => child.once('spawn', resolve));
    return { child, exit };
  }

  /** The pid of a process that has exited: a gateway that is gone. */
  const goneGateway = (): number => spawnSync(process.execPath, ['-e', '']).pid as number;

  const record = (fields: Record<string, unknown>) =>
    writeFileSync(join(dir, SIMULATOR_PID_FILE), JSON.stringify({ script, ...fields }));

  it('leaves the simulator of a gateway that still runs alone, and its files', async () => {
    const { child } = await simulator();
    // A copy of the running gateway's data: the record names the password file in the original.
    const original = mkdtempSync(join(tmpdir(), 'pulse-pid-file-original-'));
    const secret = join(original, 'simulator-7.secret');
    writeFileSync(secret, 'pw\n');
    writeFileSync(join(dir, 'simulator-7.secret'), 'pw\n');
    record({ pid: child.pid, gateway: process.pid, loginFile: secret });

    const line = clearStaleSimulator(dir);

    expect(line).toMatch(/left alone/);
    expect(line).toContain(`gateway pid ${process.pid}`);
    expect(existsSync(secret)).toBe(true);
    expect(existsSync(join(dir, 'simulator-7.secret'))).toBe(true);
    expect(existsSync(join(dir, SIMULATOR_PID_FILE))).toBe(true);
    expect(child.exitCode === null && child.signalCode === null).toBe(true);
    rmSync(original, { recursive: true, force: true });
  });

  it('ends a simulator whose gateway is gone, and removes its password file in this DATA_DIR only', async () => {
    const { child, exit } = await simulator();
    const original = mkdtempSync(join(tmpdir(), 'pulse-pid-file-original-'));
    const secret = join(original, 'simulator-7.secret');
    writeFileSync(secret, 'pw\n');
    writeFileSync(join(dir, 'simulator-7.secret'), 'pw\n');
    record({ pid: child.pid, gateway: goneGateway(), loginFile: secret });

    expect(clearStaleSimulator(dir)).toMatch(/was ended/);

    expect(await exit).toBe('SIGKILL');
    expect(existsSync(join(dir, SIMULATOR_PID_FILE))).toBe(false);
    expect(existsSync(join(dir, 'simulator-7.secret'))).toBe(false);
    // Not this DATA_DIR's: whatever it belongs to is not this gateway's to remove.
    expect(existsSync(secret)).toBe(true);
    rmSync(original, { recursive: true, force: true });
  });

  it('leaves a simulator alone whose record names no gateway (an older build): it cannot be told', async () => {
    const { child } = await simulator();
    record({ pid: child.pid, loginFile: null });

    expect(clearStaleSimulator(dir)).toMatch(/left alone/);
    expect(child.exitCode === null && child.signalCode === null).toBe(true);
  });

  it('removes the record of a gone gateway whose simulator is gone too, and ends nothing', () => {
    writeFileSync(join(dir, 'simulator-7.secret'), 'pw\n');
    record({ pid: goneGateway(), gateway: goneGateway(), loginFile: 'data/simulator-7.secret' });

    expect(clearStaleSimulator(dir)).toBeNull();
    expect(existsSync(join(dir, SIMULATOR_PID_FILE))).toBe(false);
    expect(existsSync(join(dir, 'simulator-7.secret'))).toBe(false);
  });

  it('removes only its own record: one another gateway on the data wrote since is kept', () => {
    const file = writePidFile(dir, 4242, script, null);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
      pid: 4242,
      gateway: process.pid,
    });

    removePidFile(file, 4141);
    expect(existsSync(file)).toBe(true);
    removePidFile(file, 4242);
    expect(existsSync(file)).toBe(false);
  });
});
