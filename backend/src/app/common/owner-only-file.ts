import { chmodSync, existsSync, writeFileSync } from 'node:fs';

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
