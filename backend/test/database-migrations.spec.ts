import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CHILD = join(__dirname, 'support/migrate-child.ts');

/**
 * A child migrating `file` once it is sent the moment to start: `loaded` once it has compiled and
 * loaded, `outcome` the first line of its error when it fails (null when it succeeds).
 */
function migrator(file: string) {
  const child = fork(CHILD, [file], {
    cwd: join(__dirname, '..'),
    execArgv: ['-r', 'ts-node/register'],
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', TS_NODE_PROJECT: 'tsconfig.spec.json' },
    silent: true,
    timeout: 30_000,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  child.stdout?.resume();
  const loaded = new Promise<void>((resolve) => child.once('message', () => resolve()));
  const outcome = new Promise<string | null>((resolve) =>
    child.once('exit', (code, signal) =>
      resolve(
        code === 0
          ? null
          : (stderr.split('\n').find((l) => /Error/.test(l)) ?? `failed (${code ?? signal})`),
      ),
    ),
  );
  // A child that died while loading is not sent anything: its outcome says why.
  return { loaded, outcome, start: (at: number) => child.connected && child.send(at) };
}

// Real processes on one SQLite file, as gateways on one DATA_DIR (the compose volume) that start
// together: the second used to read "not applied" before the first committed and then fail on
// `table … already exists` (one gateway of two exited at boot in about 1 run of 14 of scale-out.spec).
describe('SQLite migrations by several processes at once', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'pulse-migrate-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('two processes migrating one new file at the same moment both succeed, every time', async () => {
    const failures: string[] = [];
    for (let round = 0; round < 8; round++) {
      const pair = [0, 1].map(() => migrator(join(dir, `round-${round}.db`)));
      // Both fresh processes at the same moment, once both have compiled and loaded (waiting for
      // that, not a fixed 2.5 s, is what keeps a round short and its start together under load).
      await Promise.race([
        Promise.all(pair.map((child) => child.loaded)),
        ...pair.map((child) => child.outcome),
      ]);
      const at = Date.now() + 50;
      for (const child of pair) child.start(at);
      for (const outcome of await Promise.all(pair.map((child) => child.outcome)))
        if (outcome !== null) failures.push(outcome);
    }
    expect(failures).toEqual([]);
  }, 90_000);
});
