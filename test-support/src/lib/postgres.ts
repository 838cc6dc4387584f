/**
 * A throwaway PostgreSQL cluster for tests: `initdb` in a temp dir, `pg_ctl start` on a free
 * loopback port (trust auth, fsync off), stopped (`-m immediate`) and removed after. initdb
 * and pg_ctl refuse to run as root, so as root they run as the `postgres` user (`runuser`)
 * on a directory it owns. Owns that cluster and its temp dir; never touches a system-wide
 * PostgreSQL service.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from './net';

export const POSTGRES_BIN_DIR = process.env['POSTGRES_BIN_DIR'] ?? '/usr/lib/postgresql/15/bin';
export const POSTGRES_MISSING = `PostgreSQL not installed (no ${POSTGRES_BIN_DIR}/initdb): apt-get install -y postgresql`;

export interface PostgresCluster {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  /** A fresh empty database on this cluster; its URL. */
  createDatabase(name: string): string;
  /**
   * Freeze every process of the cluster (SIGSTOP): connections still open at the TCP level, as
   * to a host that hangs, but nothing answers. `resume()` undoes it (SIGCONT).
   */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

/**
 * Whether tests needing PostgreSQL should run. Missing binaries: skip with one line, except
 * under CI=true, where they run and {@link startPostgres} fails (CI must never skip them).
 */
export function postgresAvailable(): boolean {
  if (existsSync(join(POSTGRES_BIN_DIR, 'initdb'))) return true;
  if (process.env['CI'] === 'true') return true;
  console.warn(POSTGRES_MISSING);
  return false;
}

/** Run a PostgreSQL tool, as `postgres` when we are root (the tools refuse root). */
function run(tool: string, args: string[]): string {
  const bin = join(POSTGRES_BIN_DIR, tool);
  const asRoot = process.getuid?.() === 0;
  return execFileSync(
    asRoot ? 'runuser' : bin,
    asRoot ? ['-u', 'postgres', '--', bin, ...args] : args,
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 },
  );
}

/** Start a private cluster on a free loopback port. */
export async function startPostgres(): Promise<PostgresCluster> {
  if (!existsSync(join(POSTGRES_BIN_DIR, 'initdb'))) throw new Error(POSTGRES_MISSING);
  const dir = mkdtempSync(join(tmpdir(), 'pulse-postgres-'));
  if (process.getuid?.() === 0) {
    const id = (flag: string) =>
      Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, id('-u'), id('-g'));
  }
  const data = join(dir, 'data');
  const port = await freePort();
  const stop = async () => {
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // not running (failed start): only the files remain
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run('initdb', [
      '-D',
      data,
      '-A',
      'trust',
      '-U',
      'postgres',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off`;
    run('pg_ctl', ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  } catch (error) {
    await stop();
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`PostgreSQL did not start: ${String(error)} ${stderr}`);
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    createDatabase(name) {
      run('psql', [
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'postgres',
        '-c',
        `CREATE DATABASE "${name}"`,
      ]);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    pause: () => signalCluster(data, 'SIGSTOP'),
    resume: () => signalCluster(data, 'SIGCONT'),
    stop,
  };
}

/**
 * Send `signal` to the postmaster of the cluster in `data` and to every process it started;
 * nothing when the cluster is not running. The postmaster goes first: once stopped it forks no
 * backend that the list of its children would miss. A child that ended between the list and
 * its signal (a backend whose connection just closed) needs none: ESRCH is not an error here.
 */
function signalCluster(data: string, signal: NodeJS.Signals): void {
  const pidFile = join(data, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  process.kill(postmaster, signal);
  for (const pid of childrenOf(postmaster)) {
    try {
      process.kill(pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  }
}

/** The processes whose parent is `parent`, from /proc (field 4 of `stat`, after the name). */
function childrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (ppid === parent) children.push(Number(entry));
  }
  return children;
}

/** Runs `query` on one fresh connection to `url`, closed after whatever happens. */
export async function withDatabase<T>(
  url: string,
  query: (client: Client) => Promise<T>,
): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await query(client);
  } finally {
    await client.end();
  }
}

/** The timestamps Pulse's PostgreSQL store holds raw for one series (`history_raw`), ascending. */
export function storedTimestamps(url: string, deviceId: string, metric: string): Promise<number[]> {
  return withDatabase(url, async (client) => {
    const { rows } = await client.query<{ ts: string }>(
      `SELECT r.ts FROM history_raw r JOIN history_series s ON s.id = r.series_id
       WHERE s.device_id = $1 AND s.metric = $2 ORDER BY r.ts`,
      [deviceId, metric],
    );
    return rows.map((row) => Number(row.ts));
  });
}
