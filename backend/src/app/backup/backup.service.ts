import {
  ConflictException,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  InternalServerErrorException,
  Logger,
  OnApplicationShutdown,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import type {
  BackupFailure,
  BackupFile,
  BackupInfo,
  BackupRefusal,
  BackupStats,
} from '@pulse/protocol';
import { ChildProcess, fork } from 'node:child_process';
import { mkdir, open, readdir, rename, rm, stat, statfs } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { AlertsService } from '../alerts/alerts.service';
import { SECRET_KEY_FILE } from '../auth/token-signer';
import { describeHolder } from '../common/lock-holder';
import { CONFIG, Config } from '../config/config';
import { DeviceRegistryService } from '../devices/device-registry.service';
import { HISTORY_DATABASE_FILE } from '../history/sqlite-history.store';
import { DATABASE_FILE } from '../store/database';
import { BackupLock, BackupLockHolder } from './backup-lock';

/** Backups kept under `${DATA_DIR}/backups/`: a new one removes the oldest past this many. */
export const BACKUPS_KEPT = 3;
/** The folder of backups inside DATA_DIR. */
export const BACKUPS_DIR = 'backups';
/** The copying process's time limit without BACKUP_TIMEOUT_MS: this, plus the stores' size at… */
export const BACKUP_TIMEOUT_BASE_MS = 10 * 60_000;
/** …this rate (1 MiB/s, bytes per ms): a copy slower than that is stuck, not slow. */
export const BACKUP_SLOWEST_BYTES_PER_MS = (1024 * 1024) / 1000;
const MIB = 1024 * 1024;
/**
 * How long the newest backup's time read from the folder (BackupStats.lastMadeAt, made by the
 * other gateway sharing DATA_DIR too) serves the stats: they read the folder at most once per this.
 */
export const LAST_MADE_FRESH_MS = 5_000;
/** How long a stats read waits for that read of the folder before it answers the time known. */
const LAST_MADE_WAIT_MS = 1_000;
/**
 * The lock is held for the copy's time limit and this (the steps around the copy: removing the
 * partial copies, the free-space check, the rename, the prune), counted from the copy's start
 * (BackupLock.extend); past both another gateway takes it over.
 */
const LOCK_MARGIN_MS = 60_000;
/** How long a killed copying process is waited for before the backup is answered anyway. */
const KILL_WAIT_MS = 5_000;
const JOURNAL_DIR = 'history-journal';
/**
 * The copying process's script, plain JavaScript: beside the bundle in dist/backend (a webpack
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
 * in a process of its own: one moment's state, the writers not blocked), the token signing key
 * (sessions and tokens stay valid after a restore) and the history journal (readings
 * acknowledged and not yet stored; replayed at the restored gateway's start, a point written
 * twice kept once); the device registry's and the alerts' queued writes (at most a second old)
 * are written first. One at a time, across the gateways sharing DATA_DIR too (BackupLock);
 * refused when the disk has not room for it and BACKUP_RESERVE_MB; the copy stopped past its
 * time limit; the newest BACKUPS_KEPT are kept. With DATABASE_URL the history, registry and
 * alerts are in PostgreSQL, for pg_dump: the backup says so.
 *
 * Owns the backups folder and its counters; must not open the stores' own connections (the
 * copying process opens its own).
 */
@Injectable()
export class BackupService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Backup');
  private running = false;
  /** The backups folder's lock while this gateway makes a backup. */
  private lock: BackupLock | null = null;
  /** The copying process of the backup being made. */
  private child: ChildProcess | null = null;
  private readonly counts: BackupStats = {
    made: 0,
    refused: { busy: 0, no_space: 0 },
    failed: { timeout: 0, no_space: 0, error: 0, corrupt: 0 },
  };
  /** BackupStats.lastMadeAt: the newest made here or seen in the folder, never going back. */
  private lastMadeAt: number | undefined;
  /** When the folder was last read for lastMadeAt (LAST_MADE_FRESH_MS). */
  private lastMadeReadAt = -Infinity;
  /** That read while it is under way: one at a time, however many stats reads ask. */
  private lastMadeReading: Promise<void> | null = null;
  /** Its last failure, logged once until a read succeeds again. */
  private lastMadeError: string | undefined;

  constructor(
    @Inject(CONFIG)
    private readonly config: Pick<Config, 'DATA_DIR' | 'DATABASE_URL' | 'PULSE_SECRET_FILE'> &
      Partial<Pick<Config, 'BACKUP_RESERVE_MB' | 'BACKUP_TIMEOUT_MS'>>,
    /** Its queued writes (at most a second old) go to the store before the copy. */
    @Optional() private readonly registry?: DeviceRegistryService,
    @Optional() private readonly alerts?: AlertsService,
  ) {}

  /**
   * The newest backup kept when the gateway starts, so its age survives a restart; waited for as
   * a stats read waits (a backups folder on a disk that does not answer holds no start up).
   */
  async onModuleInit(): Promise<void> {
    this.lastMadeReading = this.readLastMade().finally(() => (this.lastMadeReading = null));
    await within(this.lastMadeReading, LAST_MADE_WAIT_MS);
  }

  /**
   * Make a backup now; 409 while one is being made, 507 when the disk has not room for it;
   * a failure after it began (500, or 507 when the disk filled) leaves nothing behind.
   */
  async create(): Promise<BackupInfo> {
    if (this.running) this.busy();
    this.running = true;
    try {
      return await this.make();
    } finally {
      this.running = false;
    }
  }

  private async make(): Promise<BackupInfo> {
    const data = this.config.DATA_DIR;
    const root = join(data, BACKUPS_DIR);
    // Every step on the disk here is asynchronous: the gateway's event loop never waits for a
    // disk that does not answer; what reads or writes much is the copying process's, inside the
    // time limit.
    await mkdir(root, { recursive: true, mode: 0o700 });
    const stores = [DATABASE_FILE];
    if (!this.config.DATABASE_URL && (await sizeOf(join(data, HISTORY_DATABASE_FILE))) !== null)
      stores.push(HISTORY_DATABASE_FILE);
    let storeBytes = 0;
    for (const file of stores)
      storeBytes +=
        ((await sizeOf(join(data, file))) ?? 0) + ((await sizeOf(join(data, `${file}-wal`))) ?? 0);
    const limitMs =
      this.config.BACKUP_TIMEOUT_MS ??
      BACKUP_TIMEOUT_BASE_MS + storeBytes / BACKUP_SLOWEST_BYTES_PER_MS;
    // One backup at a time across the gateways sharing this DATA_DIR too: the other's partial
    // copy, free space and journal are left alone while it makes one.
    const lock = await BackupLock.take(root, limitMs + LOCK_MARGIN_MS);
    if (!(lock instanceof BackupLock)) this.busy(lock.heldBy);
    this.lock = lock;
    try {
      return await this.makeLocked(lock, root, stores, storeBytes, limitMs);
    } finally {
      this.lock = null;
      await lock
        .release()
        .catch((error: Error) =>
          this.logger.warn(`the backups' lock ${lock.path} not released: ${error.message}`),
        );
    }
  }

  /** The backup, the lock held: nobody else makes one in this folder meanwhile. */
  private async makeLocked(
    lock: BackupLock,
    root: string,
    stores: string[],
    storeBytes: number,
    limitMs: number,
  ): Promise<BackupInfo> {
    const data = this.config.DATA_DIR;
    const started = Date.now();
    const name = new Date(started).toISOString().replace(/[:.]/g, '-');
    // Made under a name no listing counts, renamed when whole: a backup cut short (the gateway
    // stopped or killed meanwhile) never passes for one, nor pushes a good one out.
    const partial = join(root, `${name}${PARTIAL}`);
    const dir = join(root, name);
    let made = false;
    try {
      // With DATABASE_URL the registry and alerts are in PostgreSQL, not in the backup: nothing
      // to wait for (and a PostgreSQL that does not answer would hold the backup up). Without it
      // what they hold to write within a second (new devices, alert events) goes in pulse.db first.
      if (!this.config.DATABASE_URL) {
        await this.registry?.flushAll();
        await this.alerts?.flush();
      }
      // The flushes have no time limit of their own (a slow disk, a store busy): the lock's
      // `until` is counted from here, and a lock lost meanwhile (the flushes outlasted it and
      // another gateway took it over) leaves the folder, its .partial included, to its new
      // holder. Not the flushes cut at the limit instead: a write under way is not stopped by
      // no longer waiting for it, and the backup would lack what it promises (queued writes).
      if (!(await lock.extend(limitMs + LOCK_MARGIN_MS))) {
        this.logger.warn(
          `backup given up: the flushes before it outlasted its lock (${lock.path}), which another gateway may take over now`,
        );
        this.busy();
      }
      // Whoever left these (a gateway stopped, or one past its time limit) holds no lock now.
      await removePartial(root);
      await this.removeLeftAside(lock);
      const journal = join(data, JOURNAL_DIR);
      const key = this.config.PULSE_SECRET_FILE === undefined;
      await this.checkSpace(
        root,
        storeBytes +
          (await treeSize(journal)) +
          (key ? ((await sizeOf(join(data, SECRET_KEY_FILE))) ?? 0) : 0),
      );
      await mkdir(partial, { mode: 0o700 }); // never an existing folder (a clock set back)
      made = true;
      // All in the copying process, in this order, inside its time limit; it also syncs the
      // whole folder to the disk (VACUUM INTO does not) and has SQLite check each store's copy
      // (quick_check): renamed, it passes for whole and pushes an older one out, so it must
      // survive a power cut and be a database SQLite can read.
      await this.copy(
        {
          // The journal first, before the stores' snapshot: a segment is deleted once its
          // readings are stored, so one copied after the snapshot could lack readings stored
          // meanwhile, which the snapshot lacks too. Taken first, every reading acknowledged
          // before it is in one or the other (a point in both is written once at the restore).
          tree: { from: journal, to: join(partial, JOURNAL_DIR) },
          // The signing key in DATA_DIR (made by the gateway); one from PULSE_SECRET_FILE is a
          // secret of the deployment, kept with its other secrets, not copied here.
          files: key
            ? [{ from: join(data, SECRET_KEY_FILE), to: join(partial, SECRET_KEY_FILE) }]
            : [],
          stores: stores.map((file) => ({ from: join(data, file), to: join(partial, file) })),
          sync: partial,
        },
        limitMs,
      );
      await rename(partial, dir);
      await syncFolder(root); // the rename itself, before older backups are pruned
      const info = await describe(dir, name, started, this.notes());
      info.tookMs = Date.now() - started;
      await this.prune(root, name);
      this.counts.made++;
      this.lastMadeAt = Math.max(this.lastMadeAt ?? 0, started);
      this.logger.log(
        `backup ${dir}: ${info.files.length} files, ${info.bytes} bytes in ${info.tookMs} ms`,
      );
      return info;
    } catch (error) {
      if (!made) throw error; // refused, or failed before anything was written: said as it is
      await rm(partial, { recursive: true, force: true });
      const failure = failureOf(error);
      this.counts.failed[failure]++;
      const message = `backup failed, its partial copy removed (${partial}): ${
        failure === 'no_space'
          ? 'the disk filled up while it was written'
          : (error as Error).message
      }${failure === 'no_space' ? ` (${(error as Error).message})` : ''}`;
      this.logger.error(message);
      throw failure === 'no_space'
        ? new HttpException(message, HttpStatus.INSUFFICIENT_STORAGE)
        : new InternalServerErrorException(message);
    }
  }

  /** The backups kept, newest first. */
  async list(): Promise<BackupInfo[]> {
    const root = join(this.config.DATA_DIR, BACKUPS_DIR);
    const infos: BackupInfo[] = [];
    for (const name of (await backupNames(root)).reverse())
      infos.push(await describe(join(root, name), name, timeOf(name), this.notes()));
    return infos;
  }

  /**
   * Backups made, refused and failed since the start (`GET /api/stats` → backups), and when the
   * newest kept was made, whichever gateway sharing DATA_DIR made it: the folder is read again
   * when its last read is LAST_MADE_FRESH_MS old, and waited for LAST_MADE_WAIT_MS at most (a
   * disk that does not answer holds no stats read up; the time known is answered meanwhile).
   */
  async stats(): Promise<BackupStats> {
    if (Date.now() - this.lastMadeReadAt >= LAST_MADE_FRESH_MS && !this.lastMadeReading) {
      this.lastMadeReading = this.readLastMade().finally(() => (this.lastMadeReading = null));
      await within(this.lastMadeReading, LAST_MADE_WAIT_MS);
    }
    return {
      made: this.counts.made,
      ...(this.lastMadeAt === undefined ? {} : { lastMadeAt: this.lastMadeAt }),
      refused: { ...this.counts.refused },
      failed: { ...this.counts.failed },
    };
  }

  /**
   * A copy under way is stopped with the gateway and the lock let go (its `.partial` is removed
   * by the next backup).
   */
  onApplicationShutdown(): void {
    this.child?.kill('SIGKILL');
    this.lock?.releaseNow();
  }

  /**
   * Locks a three-gateway race left aside and whose holders are gone (BackupLock.removeLeftAside):
   * housekeeping, so a failure is logged and the backup goes on.
   */
  private async removeLeftAside(lock: BackupLock): Promise<void> {
    try {
      const removed = await lock.removeLeftAside();
      if (removed)
        this.logger.log(`removed ${removed} stale lock(s) left aside beside ${lock.path}`);
    } catch (error) {
      this.logger.warn(
        `locks left aside beside ${lock.path} not removed: ${(error as Error).message}`,
      );
    }
  }

  /** Refuses (409) a backup while one is made, here or by a gateway sharing the folder. */
  private busy(heldBy?: BackupLockHolder): never {
    this.refuse('busy');
    throw new ConflictException(
      `a backup is being made${
        heldBy ? ` (by ${describeHolder(heldBy)})` : ''
      }: try again when it is done`,
    );
  }

  private refuse(reason: BackupRefusal): void {
    this.counts.refused[reason]++;
  }

  /**
   * Refuses (507) a backup that would leave less than BACKUP_RESERVE_MB free on the backups
   * folder's file system: with the newest 3 kept, 4 exist for a moment, and a full disk fails
   * the live stores' own writes. `need`: the copy's size at most (the stores with their WAL,
   * which VACUUM INTO writes compacted, the journal and the key).
   */
  private async checkSpace(root: string, need: number): Promise<void> {
    const reserve = (this.config.BACKUP_RESERVE_MB ?? 512) * MIB;
    const { bavail, bsize } = await statfs(root);
    const free = bavail * bsize;
    if (free >= need + reserve) return;
    this.refuse('no_space');
    const message =
      `not enough free disk space for a backup: it needs about ${mib(need)} for the copy and ` +
      `${mib(reserve)} kept free for the live stores (BACKUP_RESERVE_MB), and ${root}'s file ` +
      `system has ${mib(free)} free. Free some space (copy older backups off the machine and ` +
      `delete them) and try again; nothing was written`;
    this.logger.warn(message);
    throw new HttpException(message, HttpStatus.INSUFFICIENT_STORAGE);
  }

  /**
   * The backup's copies (the journal, the key, the stores' consistent copies) and their sync, in
   * a process of their own, killed past `limitMs`; rejects with the first failure. A process,
   * not a thread: a thread is not stopped inside SQLite, and better-sqlite3 aborts the gateway
   * when a terminated thread's call fails (decision 0071).
   */
  private copy(job: CopyJob, limitMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      // No inherited Node options (under jest a TypeScript loader) nor environment (the
      // gateway's secrets): the script needs neither.
      const child = fork(join(__dirname, SCRIPT), [JSON.stringify(job)], {
        execArgv: [],
        env: {},
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      this.child = child;
      let stderr = '';
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        if (stderr.length < 2000) stderr += chunk;
      });
      let answer: { sizes?: number[]; error?: { message: string; code?: string } } | undefined;
      let settled = false;
      let timedOut: BackupTimeout | undefined;
      let gone: NodeJS.Timeout | undefined;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        clearTimeout(gone);
        if (this.child === child) this.child = null;
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(() => {
        // Killed, not asked: a copy that hangs (a store locked, a disk that does not answer)
        // reads no message. Answered once it is gone (reaped, its files closed: nothing writes
        // into the .partial removed next), or after KILL_WAIT_MS: a process the kernel holds on
        // a dead disk outlives SIGKILL, and no later backup waits for it.
        timedOut = new BackupTimeout(
          `the copy did not finish within ${Math.round(limitMs / 1000)} s (BACKUP_TIMEOUT_MS): a store is locked or the disk does not answer; it was stopped`,
        );
        child.kill('SIGKILL');
        gone = setTimeout(() => settle(timedOut), KILL_WAIT_MS);
      }, limitMs);
      child.on('message', (message) => (answer = message as typeof answer));
      child.on('error', (error) => settle(timedOut ?? error));
      // 'close', not 'exit': the IPC channel and stderr have drained by then (at 'exit' the
      // answer or the error's last lines may still be on their way).
      child.on('close', (code, signal) => {
        if (timedOut) return settle(timedOut);
        if (answer?.sizes) return settle();
        if (answer?.error)
          return settle(
            Object.assign(new Error(answer.error.message), { code: answer.error.code }),
          );
        settle(new Error(copyingProcessDied(code, signal, stderr)));
      });
    });
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

  /**
   * The newest backup in the folder folded into lastMadeAt: made by this gateway before its
   * start, or by another sharing DATA_DIR. Never lowers it (backups copied off the machine and
   * deleted were made all the same). A folder that cannot be read is no reason to stop the
   * gateway nor to fail a stats read: logged once, the next backup says what is wrong with it.
   */
  private async readLastMade(): Promise<void> {
    const root = join(this.config.DATA_DIR, BACKUPS_DIR);
    this.lastMadeReadAt = Date.now();
    try {
      const newest = (await backupNames(root)).at(-1);
      if (newest) this.lastMadeAt = Math.max(this.lastMadeAt ?? 0, timeOf(newest));
      this.lastMadeError = undefined;
    } catch (error) {
      const message = (error as Error).message;
      if (message !== this.lastMadeError)
        this.logger.warn(`backups in ${root} not read: ${message}`);
      this.lastMadeError = message;
    }
  }

  /** Keep the newest BACKUPS_KEPT, the one just made among them whatever its name. */
  private async prune(root: string, made: string): Promise<void> {
    const names = (await backupNames(root)).filter((name) => name !== made);
    for (const name of names.slice(0, Math.max(0, names.length - (BACKUPS_KEPT - 1))))
      await rm(join(root, name), { recursive: true, force: true });
  }
}

/**
 * What the copying process (sqlite-backup.worker.js) does, in this order: `tree` copied as it is
 * (when it exists), `files` copied 0600, `stores` copied with VACUUM INTO 0600, then `sync`
 * written to the disk, every file and folder, then each store's copy checked (quick_check).
 */
interface CopyJob {
  tree: { from: string; to: string };
  files: { from: string; to: string }[];
  stores: { from: string; to: string }[];
  sync: string;
}

class BackupTimeout extends Error {
  override name = 'BackupTimeout';
}

/** Why a backup failed after it began, as counted. */
function failureOf(error: unknown): BackupFailure {
  if (error instanceof BackupTimeout) return 'timeout';
  const code = (error as { code?: unknown }).code;
  // ENOSPC from Node's own copies; SQLITE_FULL from VACUUM INTO ("database or disk is full").
  if (code === 'ENOSPC' || code === 'SQLITE_FULL' || code === 'EDQUOT') return 'no_space';
  // The copying process's quick_check of a copy (sqlite-backup.worker.js).
  if (code === 'BACKUP_CHECK_FAILED') return 'corrupt';
  return 'error';
}

/**
 * Why the copying process ended without an answer (it died loading its modules, or was killed
 * by the system): its exit, and the error Node printed. An uncaught error's stderr opens with
 * where it was thrown (`node:internal/modules/cjs/loader:1210`, the source line, a caret): the
 * `Error:` line is what says why.
 */
export function copyingProcessDied(
  code: number | null,
  signal: NodeJS.Signals | null,
  stderr: string,
): string {
  const lines = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const said = lines.find((line) => /^[A-Za-z]*Error\b.*:/.test(line)) ?? lines[0];
  return `the copying process ended (${signal ?? code}) before it was done${said ? `: ${said}` : ''}`;
}

/** Resolves when `work` settles or after `ms`, whichever comes first; `work` goes on. */
async function within(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Flush a folder's entries (a rename in it) to the disk, off the event loop. */
async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** A file's size, null when it is not there (no WAL file, no key, no history.db). */
async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch {
    return null;
  }
}

/** The size of a folder's files, sub-folders too (the journal); 0 when it is not there. */
async function treeSize(dir: string): Promise<number> {
  let entries: string[];
  try {
    entries = await readdir(dir, { recursive: true });
  } catch {
    return 0;
  }
  let sum = 0;
  for (const entry of entries) sum += (await sizeOf(join(dir, entry))) ?? 0;
  return sum;
}

function mib(bytes: number): string {
  return `${Math.ceil(bytes / MIB)} MiB`;
}

/** Backups cut short (the gateway stopped while it made one): never counted, removed. */
async function removePartial(root: string): Promise<void> {
  for (const name of await readdir(root))
    if (name.endsWith(PARTIAL) && NAME.test(name.slice(0, -PARTIAL.length)))
      await rm(join(root, name), { recursive: true, force: true });
}

/** The backups kept, by name (their time), oldest first; none when there is no folder yet. */
async function backupNames(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return [];
    throw error;
  }
  return names.filter((name) => NAME.test(name)).sort();
}

function timeOf(name: string): number {
  const [date, time] = name.split('T');
  return Date.parse(
    `${date}T${time.replace(/^(\d{2})-(\d{2})-(\d{2})-(\d{3})Z$/, '$1:$2:$3.$4Z')}`,
  );
}

async function describe(
  dir: string,
  name: string,
  createdAt: number,
  notes?: string[],
): Promise<BackupInfo> {
  const files: BackupFile[] = [];
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const path = join(at, entry.name);
      if (entry.isDirectory()) await walk(path);
      else files.push({ name: relative(dir, path), bytes: (await stat(path)).size });
    }
  };
  await walk(dir);
  files.sort((a, b) => a.name.localeCompare(b.name));
  const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
  return { name, path: dir, createdAt, files, bytes, ...(notes ? { notes } : {}) };
}
