import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const CHILD = join(__dirname, 'support/migrate-child.ts');

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
      const file = join(dir, `round-${round}.db`);
      const at = String(Date.now() + 2500); // after both have compiled and loaded
      const outcomes = await Promise.allSettled(
        [0, 1].map(() =>
          run(process.execPath, ['-r', 'ts-node/register', CHILD, file, at], {
            cwd: join(__dirname, '..'),
            env: {
              ...process.env,
              TS_NODE_TRANSPILE_ONLY: '1',
              TS_NODE_PROJECT: 'tsconfig.spec.json',
            },
            timeout: 30_000,
          }),
        ),
      );
      for (const outcome of outcomes)
        if (outcome.status === 'rejected')
          failures.push(
            String((outcome.reason as Error).message)
              .split('\n')
              .find((l) => /Error/.test(l)) ?? 'failed',
          );
    }
    expect(failures).toEqual([]);
  }, 90_000);
});
