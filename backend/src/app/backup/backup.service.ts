import { ConflictException, Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { BackupFile, BackupInfo } from '@pulse/protocol';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { Worker } from 'node:worker_threads';
import { AlertsService } from '../alerts/alerts.service';
import { SECRET_KEY_FILE } from '../auth/token-signer';
import { CONFIG, Config } from '../config/config';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { HISTORY_DATABASE_FILE } from '../history/sqlite-history.store';
import { DATABASE_FILE } from '../store/database';

/** Backups kept under `${DATA_DIR}/backups/`: a new one removes the oldest past this many. */
export const BACKUPS_KEPT = 3;
/** The folder of backups inside DATA_DIR. */
export const BACKUPS_DIR = 'backups';
const JOURNAL_DIR = 'history-journal';
/**
 * The copying thread's script, plain JavaScript: beside the bundle in dist/backend (a webpack
 * asset) and beside this file in the source, so `__dirname` finds it in both.
 */
const SCRIPT = 'sqlite-backup.worker.js';
/** A backup being made: renamed without it once whole. */
const PARTIAL = '.partial';
/** A backup folder's name: the UTC time it was made, sortable. */
const NAME = /^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

/**
 * Backups of what the gateway keeps in DATA_DIR, while it runs (decision 0071): a folder
 * `${DATA_DIR}/backups/<UTC time>/` with a consistent copy of each SQLite store (`VACUUM INTO`
 * on a thread of its own: one moment's state, the writers not blocked), the token signing key
 * (sessions and tokens stay valid after a restore) and the history journal (readings
 * acknowledged and not yet stored; replayed at the restored gateway's start, a point written
 * twice kept once); the device registry's and the alerts' queued writes (at most a second old)
 * are written first. One at a time; the newest BACKUPS_KEPT are kept. With DATABASE_URL the
 * history, registry and alerts are in PostgreSQL, for pg_dump: the backup says so.
 *
 * Owns the backups folder; must not open the stores' own connections (the thread opens its own).
 */
@Injectable()
export class BackupService {
  private readonly logger = new Logger('Backup');
  private running = false;

  constructor(
    @Inject(CONFIG)
    private readonly config: Pick<Config, 'DATA_DIR' | 'DATABASE_URL' | 'PULSE_SECRET_FILE'>,
    /** Its queued writes (at most a second old) go to the store before the copy. */
    @Optional() private readonly registry?: DeviceRegistryService,
    @Optional() private readonly alerts?: AlertsService,
  ) {}

  /** Make a backup now; 409 while one is being made. */
  async create(): Promise<BackupInfo> {
    if (this.running)
      throw new ConflictException('a backup is being made: try again when it is done');
    this.running = true;
    const started = Date.now();
    const name = new Date(started).toISOString().replace(/[:.]/g, '-');
    const root = join(this.config.DATA_DIR, BACKUPS_DIR);
    // Made under a name no listing counts, renamed when whole: a backup cut short (the gateway
    // stopped or killed meanwhile) never passes for one, nor pushes a good one out.
    const partial = join(root, `${name}${PARTIAL}`);
    const dir = join(root, name);
    let made = false;
    try {
      // What the gateway holds to write within a second (new devices, alert events) is in it.
      await this.registry?.flushAll();
      await this.alerts?.flush();
      mkdirSync(root, { recursive: true, mode: 0o700 });
      removePartial(root);
      mkdirSync(partial, { mode: 0o700 }); // never an existing folder (a clock set back)
      made = true;
      const data = this.config.DATA_DIR;
      const stores = [DATABASE_FILE];
      if (!this.config.DATABASE_URL && existsSync(join(data, HISTORY_DATABASE_FILE)))
        stores.push(HISTORY_DATABASE_FILE);
      await copyStores(stores.map((file) => ({ from: join(data, file), to: join(partial, file) })));
      for (const file of stores) chmodSync(join(partial, file), 0o600);
      // The signing key in DATA_DIR (made by the gateway); one from PULSE_SECRET_FILE is a
      // secret of the deployment, kept with its other secrets, not copied here.
      if (this.config.PULSE_SECRET_FILE === undefined) {
        copyFileSync(join(data, SECRET_KEY_FILE), join(partial, SECRET_KEY_FILE));
        chmodSync(join(partial, SECRET_KEY_FILE), 0o600);
      }
      // Node's own recursive copy: files keep their mode (the journal's 0700 folders, 0600
      // segments, as copyTree gave them); `dereference` copies what a symlink points at (a journal
      // folder moved to another disk and linked), never a link back into the live DATA_DIR.
      const journal = join(data, JOURNAL_DIR);
      if (existsSync(journal))
        cpSync(journal, join(partial, JOURNAL_DIR), { recursive: true, dereference: true });
      renameSync(partial, dir);
      const info = describe(dir, name, started, this.notes());
      info.tookMs = Date.now() - started;
      this.prune(root, name);
      this.logger.log(
        `backup ${dir}: ${info.files.length} files, ${info.bytes} bytes in ${info.tookMs} ms`,
      );
      return info;
    } catch (error) {
      if (made) rmSync(partial, { recursive: true, force: true });
      this.logger.error(`backup failed: ${(error as Error).message}`);
      throw error;
    } finally {
      this.running = false;
    }
  }

  /** The backups kept, newest first. */
  list(): BackupInfo[] {
    const root = join(this.config.DATA_DIR, BACKUPS_DIR);
    return backupNames(root)
      .reverse()
      .map((name) => describe(join(root, name), name, timeOf(name), this.notes()));
  }

  private notes(): string[] | undefined {
    const notes: string[] = [];
    if (this.config.DATABASE_URL)
      notes.push(
        'history, the device registry and alerts are in PostgreSQL (DATABASE_URL): back them up with pg_dump',
      );
    if (this.config.PULSE_SECRET_FILE !== undefined)
      notes.push(
        'the token signing key is PULSE_SECRET_FILE: keep it with the deployment secrets (not copied here)',
      );
    return notes.length ? notes : undefined;
  }

  /** Keep the newest BACKUPS_KEPT, the one just made among them whatever its name. */
  private prune(root: string, made: string): void {
    const names = backupNames(root).filter((name) => name !== made);
    for (const name of names.slice(0, Math.max(0, names.length - (BACKUPS_KEPT - 1))))
      rmSync(join(root, name), { recursive: true, force: true });
  }
}

/** The consistent copies, on a thread of their own; rejects with the first failure. */
function copyStores(copies: { from: string; to: string }[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(join(__dirname, SCRIPT), { workerData: { copies }, execArgv: [] });
    let done = false;
    worker.once('message', () => {
      done = true;
      resolve();
    });
    worker.once('error', (error) => {
      done = true;
      reject(error);
    });
    worker.once('exit', (code) => {
      if (!done) reject(new Error(`the backup thread exited (${code}) before it was done`));
    });
  });
}

/** Backups cut short (the gateway stopped while it made one): never counted, removed. */
function removePartial(root: string): void {
  for (const name of readdirSync(root))
    if (name.endsWith(PARTIAL) && NAME.test(name.slice(0, -PARTIAL.length)))
      rmSync(join(root, name), { recursive: true, force: true });
}

function backupNames(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((name) => NAME.test(name))
    .sort();
}

function timeOf(name: string): number {
  const [date, time] = name.split('T');
  return Date.parse(
    `${date}T${time.replace(/^(\d{2})-(\d{2})-(\d{2})-(\d{3})Z$/, '$1:$2:$3.$4Z')}`,
  );
}

function describe(dir: string, name: string, createdAt: number, notes?: string[]): BackupInfo {
  const files: BackupFile[] = [];
  const walk = (at: string) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.push({ name: relative(dir, path), bytes: statSync(path).size });
    }
  };
  walk(dir);
  files.sort((a, b) => a.name.localeCompare(b.name));
  const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
  return { name, path: dir, createdAt, files, bytes, ...(notes ? { notes } : {}) };
}
