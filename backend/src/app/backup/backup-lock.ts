import { randomUUID } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { link, open, readdir, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { LockHolder, PID_NAMESPACE, thisHolder } from '../common/lock-holder';

/** The lock file inside the backups folder; never a backup's name, so never listed. */
export const BACKUP_LOCK = '.lock';
/**
 * A lock that cannot be read (its maker died between creating and writing it, a few
 * microseconds) is someone's for this long after it was written, then anyone's.
 */
const UNREADABLE_LOCK_MS = 60_000;

/**
 * A holder extends its lock only while it is this far from its time: a taker on another host
 * judges staleness by its own clock (a few seconds of skew between gateways are covered).
 */
export const EXTEND_MARGIN_MS = 5_000;

/**
 * A lock left aside (`.lock.<mover's id>`) is removed only once it was set aside this long ago:
 * its mover renames it, reads it and removes it or links it back within one take() or release(),
 * a few file calls; one still between them after a minute is stuck on its disk (decision 0071,
 * fifth review).
 */
export const SET_ASIDE_SETTLED_MS = 60_000;
/** A lock set aside by setAside or release: BACKUP_LOCK, a dot, its mover's id (a UUID). */
const SET_ASIDE = /^\.lock\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** What the lock file says: who makes a backup, since when, and until when it is theirs. */
export interface BackupLockHolder extends LockHolder {
  /** This taking of the lock: only its taker releases it. */
  id: string;
  /** ms since epoch: past it the holder is stopped or stuck, and the lock anyone's. */
  until: number;
}

/** When this process started: a lock of its pid and host from before is a previous life's. */
const PROCESS_STARTED = Date.now() - process.uptime() * 1000;

/**
 * One backup at a time across every gateway that shares a DATA_DIR (docker-compose.yml mounts one
 * volume on both; decision 0071, third review): a file `backups/.lock` created exclusively
 * (O_EXCL, atomic on a local file system) holding its taker's pid, host and time. Taken over only
 * from a holder that is gone: past its `until` (its backup's time limit and a margin: any other
 * host or pid namespace, whose processes cannot be seen), or of this host and pid namespace and
 * no longer running (a pid that is no process, or this very pid from before this process
 * started); a stale lock is set aside and taken over only if what was moved is still it (decision
 * 0071, fourth review). Owns that file; the backup service holds the lock while it removes
 * partial copies, checks the free space, copies and prunes.
 */
export class BackupLock {
  private constructor(
    /** The lock file. */
    readonly path: string,
    /** What this backup wrote in it. */
    private holder: BackupLockHolder,
  ) {}

  /** Found another's (past its time, or taken over): never touched again by this backup. */
  private lost = false;

  private lose(): false {
    this.lost = true;
    return false;
  }

  /**
   * Take the lock for a backup that may last `holdMs`: the lock, or who holds it (undefined when
   * that cannot be read) when another backup is being made.
   */
  static async take(
    root: string,
    holdMs: number,
  ): Promise<BackupLock | { heldBy: BackupLockHolder | undefined }> {
    const path = join(root, BACKUP_LOCK);
    const id = randomUUID();
    const now = Date.now();
    const mine: BackupLockHolder = { id, ...thisHolder(now), until: now + holdMs };
    // Once more after a lock released meanwhile, or left by a holder that is gone and set aside.
    let held: Held | 'gone' = 'gone';
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await create(path, mine)) return new BackupLock(path, mine);
      held = await read(path);
      if (held === 'gone') continue;
      if (attempt > 0 || !stale(held)) break;
      const instead = await setAside(path, held, id);
      if (instead !== true) {
        held = instead; // who took it over meanwhile: the one to name
        break;
      }
    }
    return { heldBy: held === 'gone' ? undefined : held.holder };
  }

  /**
   * Hold the lock `holdMs` from now (its `until` rewritten): called when the backup's time limit
   * starts, after steps that have none of their own. False when the lock is no longer this
   * backup's (its `until` passed meanwhile and another gateway took it over): the backup must
   * then leave the folder alone.
   */
  async extend(holdMs: number): Promise<boolean> {
    // Past (or within a margin of) its time, another gateway may already have judged it stale
    // and be setting it aside: not revived, whatever the file says now.
    if (this.lost || Date.now() > this.holder.until - EXTEND_MARGIN_MS) return this.lose();
    let handle;
    try {
      handle = await open(this.path, 'r+');
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return this.lose();
      throw error;
    }
    try {
      // Checked and rewritten through one open file: what is rewritten is what was checked, even
      // if a taker moves it aside in between (it then finds it fresh and puts it back).
      if (parse(await handle.readFile('utf8'))?.id !== this.holder.id) return this.lose();
      const holder = { ...this.holder, until: Date.now() + holdMs };
      const text = JSON.stringify(holder);
      // Written over, then cut to length: never empty, so never read as a lock being made.
      await handle.write(text, 0);
      await handle.truncate(Buffer.byteLength(text));
      await handle.sync();
      this.holder = holder;
      return true;
    } finally {
      await handle.close();
    }
  }

  /**
   * Remove the locks left aside beside this one (a lock moved by mistake and not put back because
   * a third gateway's took its place: putBack) whose holder is gone by the lock's own rules (past
   * its `until`, or of this host and pid namespace and not running) and that were set aside over
   * SET_ASIDE_SETTLED_MS ago; how many. Called under the lock, after extend(): while this lock is
   * at `.lock` no mover's link can put another back. Never one its holder may still hold (it
   * finds it lost at its next step, as putBack says), nor one its mover may still be putting back
   * (decision 0071, fifth review).
   */
  async removeLeftAside(): Promise<number> {
    if (this.lost) return 0;
    const root = dirname(this.path);
    let removed = 0;
    for (const name of await readdir(root)) {
      if (!SET_ASIDE.test(name)) continue;
      const path = join(root, name);
      const held = await read(path);
      if (held === 'gone' || !settled(held) || !stale(held)) continue;
      await rm(path, { force: true });
      removed++;
    }
    return removed;
  }

  /**
   * Let the lock go, if it is still this backup's (past its time another may have taken it). Moved
   * aside first, then checked, and put back when it is another's: a check before a removal could
   * pass just before another gateway takes the lock over, and remove the new holder's lock.
   */
  async release(): Promise<void> {
    if (this.lost) return; // another's now: not even moved aside for a look
    const aside = `${this.path}.${this.holder.id}`;
    try {
      await rename(this.path, aside);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return; // taken over and released
      throw error;
    }
    const moved = await read(aside);
    if (moved === 'gone' || moved.holder?.id === this.holder.id) await rm(aside, { force: true });
    else await putBack(aside, this.path);
  }

  /** As release(), at once: the gateway is stopping and may not wait for a promise. */
  releaseNow(): void {
    if (this.lost) return;
    const aside = `${this.path}.${this.holder.id}`;
    try {
      renameSync(this.path, aside);
      if (parse(readFileSync(aside, 'utf8'))?.id === this.holder.id) rmSync(aside, { force: true });
      else {
        linkSync(aside, this.path); // as putBack
        rmSync(aside, { force: true });
      }
    } catch {
      // Gone already, another's lock there meanwhile, or the disk does not answer: the next taker
      // sees this process gone, or the other holder keeps its lock.
    }
  }
}

/** Create the lock file with `holder` in it; false when it exists. */
async function create(path: string, holder: BackupLockHolder): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(JSON.stringify(holder));
    await handle.sync(); // a lock that survives a power cut is taken over like any other
    await handle.close();
    return true;
  } catch (error) {
    await handle.close().catch(() => undefined);
    await rm(path, { force: true }); // written half (the disk full): nobody's lock
    throw error;
  }
}

interface Held {
  /** undefined when the file holds no lock one can read (being written, or its writer died). */
  holder: BackupLockHolder | undefined;
  ino: number;
  size: number;
  mtimeMs: number;
  /** Its last change, a rename (setting it aside), link or write included. */
  ctimeMs: number;
}

/** The lock file as it is, its content and identity read from one open file. */
async function read(path: string): Promise<Held | 'gone'> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return 'gone';
    throw error;
  }
  try {
    const { ino, size, mtimeMs, ctimeMs } = await handle.stat();
    return { holder: parse(await handle.readFile('utf8')), ino, size, mtimeMs, ctimeMs };
  } finally {
    await handle.close();
  }
}

function parse(text: string): BackupLockHolder | undefined {
  try {
    const holder = JSON.parse(text) as Partial<BackupLockHolder> | null;
    return typeof holder?.id === 'string' &&
      typeof holder.pid === 'number' &&
      typeof holder.host === 'string' &&
      (holder.pidNamespace === undefined || typeof holder.pidNamespace === 'string') &&
      typeof holder.startedAt === 'number' &&
      typeof holder.until === 'number'
      ? (holder as BackupLockHolder)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the lock's holder is gone: past its time, or a process of this host and pid namespace
 * that is not.
 */
function stale({ holder, mtimeMs }: Held): boolean {
  const now = Date.now();
  if (!holder) return now - mtimeMs > UNREADABLE_LOCK_MS;
  if (now > holder.until) return true;
  // Another machine's or container's, whose processes this one cannot see (a container with host
  // networking has this host name, and its pid is ESRCH here, or 1 as this one's): its time. A
  // lock without a namespace, from a gateway before 0071's fourth review, counts as one of them.
  if (holder.host !== hostname() || holder.pidNamespace !== PID_NAMESPACE) return false;
  // This very pid from before this process started: a previous life in this namespace (the host
  // rebooted: the first namespace's number is fixed). A restarted container has a new namespace,
  // so its previous life's lock waits for its `until` like any other container's.
  if (holder.pid === process.pid) return holder.startedAt < PROCESS_STARTED;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as { code?: unknown }).code === 'ESRCH'; // EPERM: another user's, running
  }
}

/**
 * Whether a lock left aside was last moved, linked or written SET_ASIDE_SETTLED_MS ago: its
 * mover's take() or release() is over (rename sets the moved file's change time).
 */
function settled({ ctimeMs }: Held): boolean {
  return Date.now() - ctimeMs > SET_ASIDE_SETTLED_MS;
}

/**
 * Move a stale lock out of the way: true once it is, or what was moved instead (another gateway
 * took the stale lock over between our look and our move), put back.
 */
async function setAside(path: string, held: Held, id: string): Promise<true | Held | 'gone'> {
  const aside = `${path}.${id}`;
  try {
    await rename(path, aside);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') return true; // released meanwhile
    throw error;
  }
  const moved = await read(aside);
  // The same lock, and still stale: its holder may have held it longer meanwhile (extend), and a
  // lock it holds is put back.
  if (moved !== 'gone' && sameLock(moved, held) && stale(moved)) {
    await rm(aside, { force: true });
    return true;
  }
  if (moved !== 'gone') await putBack(aside, path);
  return moved;
}

/**
 * Whether `moved` is the lock that was read as `held`: the same taking of it (its id). Not the
 * same inode: ext4 gives a freed inode number straight to the next file, so the lock another
 * gateway made after removing the stale one often has the stale one's. A lock that cannot be
 * read has no id: the same inode, size and modification time then (a new one is written now).
 */
function sameLock(moved: Held, held: Held): boolean {
  if (moved.holder || held.holder) return moved.holder?.id === held.holder?.id;
  return moved.ino === held.ino && moved.size === held.size && moved.mtimeMs === held.mtimeMs;
}

/**
 * Put a lock moved to `aside` by mistake back at `path`. With link, which unlike rename never
 * replaces a lock a third taker made there meanwhile; when one did, the moved one is left aside
 * (the third's lock stands; the moved one's holder, a backup just begun, finds its lock lost at
 * BackupLock.extend, before it touches the folder).
 */
async function putBack(aside: string, path: string): Promise<void> {
  try {
    await link(aside, path);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'EEXIST') return;
    throw error;
  }
  await rm(aside, { force: true });
}
