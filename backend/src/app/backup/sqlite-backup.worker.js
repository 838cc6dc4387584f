// @ts-check
'use strict';
/*
 * The backup's copying process (backup.service.ts forks one per backup; decision 0071): a
 * connection of its own to each SQLite file that writes a consistent copy with `VACUUM INTO` (one
 * read transaction: the copy is the file as of one moment, whatever the gateway writes meanwhile,
 * without blocking its writers in WAL mode), off the gateway's event loop. A process, not a
 * thread: past its time limit it is killed, which stops it even inside SQLite (a thread is not
 * stopped there, and better-sqlite3 aborts the whole process when a terminated thread's call
 * fails: 0071's second addendum). Copies the history journal and the signing key first (before
 * the stores' snapshot; here, not in the gateway, so a disk that does not answer holds this
 * process up, inside the time limit, never the gateway's event loop). Answers each store copy's
 * size, or the error's message and code, on the IPC channel, once the backup's folder is synced
 * to the disk and each store's copy passed SQLite's quick_check. Plain JavaScript, copied beside
 * the bundle as it is (as the history checkpointer's thread).
 */
const {
  chmodSync,
  closeSync,
  copyFileSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  statSync,
} = require('node:fs');
const { basename, join } = require('node:path');

const send = process.send?.bind(process);
if (!send) throw new Error('sqlite-backup.worker must run as a forked process');

/**
 * backup.service.ts's CopyJob.
 * @typedef {{ from: string; to: string }} Copy
 * @type {{ tree: Copy; files: Copy[]; stores: Copy[]; sync: string }}
 */
const { tree, files, stores, sync } = JSON.parse(process.argv[2] ?? '{}');

/**
 * Every file and folder under `path` written to the disk, the folders after their entries:
 * VACUUM INTO does not sync its output, nor do Node's copies, and a backup renamed whole must be
 * whole after a power cut too (it pushes an older one out).
 */
function syncTree(path) {
  if (statSync(path).isDirectory())
    for (const name of readdirSync(path)) syncTree(join(path, name));
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** A file or folder that is not there (any more). */
function gone(error) {
  return /** @type {{ code?: unknown }} */ (error).code === 'ENOENT';
}

/**
 * `from` copied to `to` with its files' and folders' modes (the journal's 0700 folders, 0600
 * segments); a symlink copied as what it points at (a journal folder moved to another disk and
 * linked), never a link back into the live DATA_DIR. What is gone by the time it is opened is
 * left out: a gateway deletes a journal segment once its readings are stored, so a segment
 * listed and then gone is in the stores' snapshot, taken after. fs.cpSync failed the whole backup
 * there (ENOENT), as it did whenever the other gateway sharing the folder flushed meanwhile.
 * Anything but files and folders (a socket, a FIFO) is no segment: left out too.
 */
function copyTree(from, to) {
  let stat;
  let names;
  try {
    stat = statSync(from);
    if (stat.isDirectory()) names = readdirSync(from);
    else if (stat.isFile()) copyFileSync(from, to);
    else return;
  } catch (error) {
    if (gone(error)) return;
    throw error;
  }
  if (names) mkdirSync(to);
  chmodSync(to, stat.mode & 0o7777);
  for (const name of names ?? []) copyTree(join(from, name), join(to, name));
}

/** What backup.service.ts counts as `corrupt`: a copy that SQLite does not find sound. */
const CHECK_FAILED = 'BACKUP_CHECK_FAILED';
/** The most of SQLite's findings quoted: the first say what is wrong, a torn file has hundreds. */
const CHECK_FINDINGS = 5;

/**
 * The copy at `path` opened read-only and checked with `PRAGMA quick_check`; throws what SQLite
 * said when it is not sound (a torn or truncated file, a fault carried over). Once synced: the
 * renamed backup pushes an older one out, so a copy SQLite cannot read must fail here instead.
 * quick_check, not integrity_check: it reads every page, b-tree and record once (linear in the
 * file, inside the time limit), and leaves out only the index-against-table cross-check, a lookup
 * per row per index; a copy torn or cut short fails the page and b-tree checks before that.
 * Nothing is written beside it: the copy is in rollback-journal mode (VACUUM INTO's output).
 * @param {typeof import('better-sqlite3')} BetterSqlite3
 * @param {string} path
 */
function check(BetterSqlite3, path) {
  let findings;
  try {
    const db = new BetterSqlite3(path, { fileMustExist: true, readonly: true });
    try {
      findings = /** @type {{ quick_check: string }[]} */ (
        db.pragma(`quick_check(${CHECK_FINDINGS})`)
      ).map((row) => row.quick_check);
    } finally {
      db.close();
    }
  } catch (error) {
    findings = [/** @type {{ message?: string }} */ (error).message]; // "file is not a database"
  }
  if (findings.length === 1 && findings[0] === 'ok') return;
  throw Object.assign(
    new Error(`the copy of ${basename(path)} failed SQLite's quick_check: ${findings.join('; ')}`),
    { code: CHECK_FAILED },
  );
}

const sizes = [];
try {
  // Inside the try: a driver that fails to load (no native build for this Node) is answered
  // with its message, not left to an uncaught stack on stderr.
  const BetterSqlite3 = require('better-sqlite3');
  // The journal first, before the stores' snapshot (backup.service.ts says why).
  copyTree(tree.from, tree.to);
  for (const { from, to } of files) {
    copyFileSync(from, to);
    chmodSync(to, 0o600);
  }
  for (const { from, to } of stores) {
    const db = new BetterSqlite3(from, { fileMustExist: true, readonly: true, timeout: 5000 });
    try {
      db.prepare('VACUUM INTO ?').run(to);
    } finally {
      db.close();
    }
    chmodSync(to, 0o600);
    sizes.push(statSync(to).size);
  }
  syncTree(sync);
  for (const { to } of stores) check(BetterSqlite3, to);
  send({ sizes }, () => process.exit(0));
} catch (error) {
  const { message, code } = /** @type {{ message?: string; code?: unknown }} */ (error);
  send(
    { error: { message: String(message), code: typeof code === 'string' ? code : undefined } },
    () => process.exit(1),
  );
}
