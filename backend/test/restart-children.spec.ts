import {
  Backend,
  freePort,
  SIMULATOR_MAIN,
  spawnNode,
  startBuiltBackend,
  waitFor,
} from '@pulse/test-support';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulatorPids } from './support/simulator-processes';

// Real: the built gateway (dist/backend) with its built-in simulator child, killed the way a
// crash, an OOM kill or `kill -9` does it (issue 13: the child used to run on as an orphan).

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

describe('the built-in simulator ends with its gateway', () => {
  const started: Backend[] = [];
  const strays: number[] = [];
  let dataDir: string;
  let copyDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'pulse-children-'));
    copyDir = `${dataDir}-copy`;
  });

  afterEach(async () => {
    // Whole process groups: whatever a failing run left behind goes too.
    for (const backend of started.splice(0)) killQuietly(-backend.pid);
    for (const pid of strays.splice(0)) killQuietly(pid);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(copyDir, { recursive: true, force: true });
  });

  async function start(dir = dataDir): Promise<{ backend: Backend; url: string }> {
    const ports = { http: await freePort(), mqtt: await freePort() };
    const backend = await startBuiltBackend(ports, { DATA_DIR: dir });
    started.push(backend);
    return { backend, url: `mqtt://127.0.0.1:${ports.mqtt}` };
  }

  it('no simulator of a gateway killed with SIGKILL is left running', async () => {
    const { backend, url } = await start();
    const child = await waitFor(
      () => {
        const pids = simulatorPids(url);
        return pids.length === 1 ? pids[0] : null;
      },
      { timeoutMs: 10_000, intervalMs: 200, message: 'the gateway to start its simulator' },
    );

    process.kill(backend.pid, 'SIGKILL');

    // Its broker died with it: the child must not stay to reconnect to it for ever.
    await waitFor(() => simulatorPids(url).length === 0, {
      timeoutMs: 8_000,
      intervalMs: 200,
      message: `simulator ${child} to end after its gateway was killed`,
    });
  }, 40_000);

  it('a gateway started on the same data ends a simulator an earlier one left running', async () => {
    // A stale child as an older build left it: no parent watch (started without IPC), still
    // trying to reach the broker of the gateway that died.
    const deadBroker = `mqtt://127.0.0.1:${await freePort()}`;
    const stale = spawnNode(SIMULATOR_MAIN, ['--url', deadBroker, '--devices', '3', '--quiet']);
    strays.push(stale.child.pid ?? 0);
    await waitFor(() => simulatorPids(deadBroker).length === 1, { message: 'the stale simulator' });
    // Its gateway is gone: a pid that no longer runs (the stale child is this test's, not its).
    const gateway = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(
      join(dataDir, 'simulator.pid'),
      JSON.stringify({ pid: stale.child.pid, script: SIMULATOR_MAIN, gateway, loginFile: null }),
    );

    const { url } = await start();

    await waitFor(() => simulatorPids(deadBroker).length === 0, {
      timeoutMs: 5_000,
      intervalMs: 200,
      message: 'the stale simulator to be ended by the new gateway',
    });
    expect(await stale.exit).toEqual({ code: null, signal: 'SIGKILL' });
    // Exactly one fleet with these device ids: the new gateway's.
    await waitFor(() => simulatorPids(url).length === 1, { message: 'the new simulator' });
  }, 40_000);

  it("a gateway started on a copy of a running gateway's data leaves that gateway's simulator and files alone", async () => {
    const { backend: running, url: runningUrl } = await start();
    const child = await waitFor(
      () => {
        const pids = simulatorPids(runningUrl);
        return pids.length === 1 ? pids[0] : null;
      },
      { timeoutMs: 10_000, intervalMs: 200, message: 'the running gateway to start its simulator' },
    );
    // The password file of the running gateway's simulator (embedded broker), in its DATA_DIR.
    const secrets = readdirSync(dataDir).filter((name) => /^simulator-\d+\.secret$/.test(name));
    expect(secrets).toEqual([`simulator-${running.pid}.secret`]);

    // A backup of the live data, started on its own ports (the operator's test drive).
    execFileSync('cp', ['-a', dataDir, copyDir]);
    const { backend: second, url: secondUrl } = await start(copyDir);
    await waitFor(() => simulatorPids(secondUrl).length === 1, {
      timeoutMs: 10_000,
      intervalMs: 200,
      message: "the second gateway's simulator",
    });

    expect(simulatorPids(runningUrl)).toEqual([child]);
    expect(existsSync(join(dataDir, secrets[0]))).toBe(true);
    expect(existsSync(join(dataDir, 'simulator.pid'))).toBe(true);
    expect(second.output()).not.toMatch(/was ended/);
    expect(second.output()).toContain(
      `of gateway pid ${running.pid}, which still runs: left alone`,
    );
  }, 60_000);
});
