import BetterSqlite3 from 'better-sqlite3';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeHolder, LockHolder, thisHolder } from '../common/lock-holder';
import { ownerOnlyFile } from '../common/owner-only-file';
import { StartupError } from '../config/config';

/*
 * One gateway per history journal folder, for its whole life (decision 0073): a second process on
 * the same DATA_DIR (and GATEWAY_ID) recovered the running one's journal, writing and deleting
 * its segments, before anything else refused it.
 *
 * The hold is the kernel's: an exclusive SQLite transaction, kept open, on an empty database file
 * in the folder (SQLite takes a POSIX byte-range lock, fcntl, which Node has no API for). The
 * kernel drops it the moment its process ends, however it ends (SIGKILL, a crash, OOM, a reboot),
 * so a restart after a crash takes it at once, in whatever pid namespace, with no staleness rule
 * and no heartbeat to miss; a second process, or a second connection in this one, gets
 * SQLITE_BUSY. Who holds it is written beside it for the refusal to name, never to decide.
 *
 * Owns `.lock` and `.lock-holder` in the folder; must not touch anything else there (the journal
 * does). Nothing else in the process may open `.lock`: closing any descriptor of a file drops the
 * process's POSIX locks on it (SQLite guards its own opens, not anyone else's).
 */

/** The locked file: an empty SQLite database, never written and never removed. */
export const JOURNAL_LOCK = '.lock';
/** Who holds the lock (a LockHolder as JSON), written once it is taken. */
export const JOURNAL_HOLDER = '.lock-holder';

/**
 * How long a taker waits for the lock: enough for another taker's few calls in between (two
 * gateways starting at once: one takes it), not for a holder, which holds for its life.
 */
const TAKE_WAIT_MS = 300;

export class JournalLock {
  private constructor(
    private readonly dir: string,
    private db: BetterSqlite3.Database | null,
  ) {}

  /**
   * Hold `dir` (which must exist) for this process's life, or a StartupError saying who holds it.
   * Nothing in the folder is read or written before the lock is taken.
   */
  static take(dir: string): JournalLock {
    const file = join(dir, JOURNAL_LOCK);
    // 0600 as every file of DATA_DIR; made without opening one that exists (see above).
    ownerOnlyFile(file);
    const db = new BetterSqlite3(file, { timeout: TAKE_WAIT_MS });
    try {
      // Nothing is ever written: no rollback journal file beside it, even for a moment.
      db.pragma('journal_mode = MEMORY');
      db.exec('BEGIN EXCLUSIVE');
    } catch (error) {
      db.close();
      if ((error as { code?: unknown }).code === 'SQLITE_BUSY') throw heldError(dir);
      // ENOLCK and the like: a file system without POSIX locks (some network mounts). Pulse's
      // SQLite stores in DATA_DIR need them too; starting without the hold would bring back the
      // harm it prevents.
      throw new StartupError(
        `the history journal ${dir} cannot be locked (${(error as Error).message}): ` +
          'DATA_DIR must be on a file system with POSIX (fcntl) locks',
      );
    }
    const holder = join(dir, JOURNAL_HOLDER);
    // Whole or not at all for a reader: written aside, then renamed over.
    writeFileSync(`${holder}.new`, JSON.stringify(thisHolder(Date.now())), { mode: 0o600 });
    renameSync(`${holder}.new`, holder);
    return new JournalLock(dir, db);
  }

  /** Let the folder go (at shutdown, once the journal is closed). Idempotent. */
  release(): void {
    if (!this.db) return;
    // Removed while still held: removed after, it could be the next holder's.
    rmSync(join(this.dir, JOURNAL_HOLDER), { force: true });
    this.db.close();
    this.db = null;
  }
}

function heldError(dir: string): StartupError {
  const holder = readHolder(join(dir, JOURNAL_HOLDER));
  return new StartupError(
    `the history journal ${dir} is held by ` +
      (holder ? describeHolder(holder) : 'another process (which has not said who it is yet)') +
      ': is Pulse already running with this DATA_DIR (and GATEWAY_ID)? Stop it first, or give ' +
      'each gateway on this DATA_DIR a GATEWAY_ID of its own. Nothing was changed.',
  );
}

/** The holder's description, or undefined when missing or not one (only ever named, not trusted). */
function readHolder(file: string): LockHolder | undefined {
  try {
    const holder = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockHolder> | null;
    return typeof holder?.pid === 'number' &&
      typeof holder.host === 'string' &&
      typeof holder.startedAt === 'number' &&
      (holder.pidNamespace === undefined || typeof holder.pidNamespace === 'string')
      ? (holder as LockHolder)
      : undefined;
  } catch {
    return undefined;
  }
}
