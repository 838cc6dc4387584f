/**
 * A throwaway PostgreSQL cluster for a test file: `initdb` in a temp directory owned by the
 * `postgres` user (initdb and pg_ctl refuse to run as root), started on a free port, trust auth
 * on 127.0.0.1 only, removed on stop. Owns that cluster only; knows no Pulse table.
 */
import { freePort, waitFor } from '@pulse/test-support';
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

export const PG_BIN = process.env['PG_BIN'] ?? '/usr/lib/postgresql/15/bin';
export const PG_MISSING = `PostgreSQL not found in ${PG_BIN}: apt-get install -y postgresql`;

export interface TestPostgres {
  url: string;
  stop(): Promise<void>;
}

function asPostgres(args: string[]): void {
  const root = process.getuid?.() === 0;
  const [command, ...rest] = root ? ['runuser', '-u', 'postgres', '--', ...args] : args;
  execFileSync(command, rest, { stdio: 'pipe', timeout: 60_000 });
}

export async function startPostgres(): Promise<TestPostgres> {
  if (!existsSync(join(PG_BIN, 'initdb'))) throw new Error(PG_MISSING);
  const dir = mkdtempSync(join(tmpdir(), 'pulse-pg-'));
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  if (process.getuid?.() === 0) chownSync(dir, uid, gid);
  const data = join(dir, 'data');
  const port = await freePort();
  asPostgres([join(PG_BIN, 'initdb'), '-D', data, '-U', 'pulse', '--auth=trust', '-E', 'UTF8']);
  asPostgres([
    join(PG_BIN, 'pg_ctl'),
    '-D',
    data,
    '-l',
    join(dir, 'log'),
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    '-w',
    'start',
  ]);
  const url = `postgres://pulse@127.0.0.1:${port}/postgres`;
  await waitFor(
    async () => {
      const client = new Client({ connectionString: url });
      await client.connect();
      await client.end();
      return true;
    },
    { timeoutMs: 20_000, intervalMs: 200, message: `PostgreSQL on port ${port}` },
  );
  return {
    url,
    stop: async () => {
      try {
        asPostgres([join(PG_BIN, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
