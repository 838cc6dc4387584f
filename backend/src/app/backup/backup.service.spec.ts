/**
 * BackupService on its own (decision 0071): real SQLite stores, a real copying process and a
 * real file system under a DATA_DIR of the test's; no gateway (backend/test/backup.spec.ts
 * runs one, restores and talks HTTP and the CLI).
 */
import BetterSqlite3 from 'better-sqlite3';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackupService, BACKUPS_DIR } from './backup.service';

describe('BackupService', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** A DATA_DIR as a gateway leaves it: both stores in WAL mode, the key, a journal segment. */
  const dataDir = (rows = 10): string => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-backup-unit-'));
    dirs.push(dir);
    for (const file of ['pulse.db', 'history.db']) {
      const db = new BetterSqlite3(join(dir, file));
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)');
      const insert = db.prepare('INSERT INTO t (v) VALUES (randomblob(1000))');
      db.transaction(() => {
        for (let i = 0; i < rows; i++) insert.run();
      })();
      db.close();
    }
    writeFileSync(join(dir, 'secret.key'), 'k'.repeat(64), { mode: 0o600 });
    mkdirSync(join(dir, 'history-journal', 'gateway-a'), { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'history-journal', 'gateway-a', '000001.jsonl'), '{"v":1}\n', {
      mode: 0o600,
    });
    return dir;
  };
  const service = (dir: string) => new BackupService({ DATA_DIR: dir });

  it('copies the journal segments as files with their modes, a journal folder linked from elsewhere too', async () => {
    const dir = dataDir();
    // The operator moved the journal to another disk and linked it.
    const elsewhere = mkdtempSync(join(tmpdir(), 'pulse-journal-'));
    dirs.push(elsewhere);
    rmSync(join(dir, 'history-journal'), { recursive: true });
    mkdirSync(join(elsewhere, 'journal'), { mode: 0o700 });
    writeFileSync(join(elsewhere, 'journal', '000007.jsonl'), '{"v":7}\n', { mode: 0o600 });
    symlinkSync(join(elsewhere, 'journal'), join(dir, 'history-journal'));

    const made = await service(dir).create();

    const copied = join(made.path, 'history-journal');
    expect(lstatSync(copied).isDirectory()).toBe(true);
    expect(lstatSync(copied).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(copied, '000007.jsonl'), 'utf8')).toBe('{"v":7}\n');
    expect(lstatSync(join(copied, '000007.jsonl')).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, BACKUPS_DIR))).toEqual([made.name]);
    expect(existsSync(join(made.path, 'pulse.db'))).toBe(true);
  });
});
