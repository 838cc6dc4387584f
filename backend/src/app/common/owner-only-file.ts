import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Make a file of DATA_DIR readable by this user only (0600) before SQLite opens it: a new one is
 * created so, an existing one is tightened, with its `-wal` and `-shm` (SQLite gives those the
 * database file's mode). The directory is made 0700 only when Pulse creates it; one that exists
 * (made by hand, a volume) may be 0755, and a database created with the default umask was then
 * readable by every user of the host: password hashes, sessions, tokens. Owns only this.
 */
export function ownerOnlyFile(file: string): void {
  try {
    writeFileSync(file, '', { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  for (const path of [file, `${file}-wal`, `${file}-shm`])
    if (existsSync(path)) chmodSync(path, 0o600);
}

/**
 * Write `content` to `file` (0600, its directory 0700) unless another process (a second gateway
 * on the same DATA_DIR, started at the same moment) made it first: written whole to a file of our
 * own, then linked to `file`, which fails if it exists (link(2) is atomic), so no process ever
 * reads a half-written file or overwrites the one its peers already use. False when one existed.
 */
export function createFileOnce(file: string, content: string): boolean {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const mine = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(mine, content, { mode: 0o600 });
  try {
    linkSync(mine, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  } finally {
    rmSync(mine, { force: true });
  }
}
