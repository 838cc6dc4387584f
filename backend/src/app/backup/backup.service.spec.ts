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
  readlinkSync,
  rmSync,
  statfsSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import childProcess from 'node:child_process';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlertsService } from '../alerts/alerts.service';
import type { DeviceRegistryService } from '../devices/device-registry.service';
import { BACKUP_LOCK } from './backup-lock';
import {
  BackupService,
  BACKUPS_DIR,
  copyingProcessDied,
  LAST_MADE_FRESH_MS,
} from './backup.service';

describe('BackupService', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  /** A DATA_DIR as a gateway leaves it: both stores in WAL mode, the key, a journal segment. */
  const dataDir = (historyRows = 10): string => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-backup-unit-'));
    dirs.push(dir);
    for (const [file, rows] of [
      ['pulse.db', 10],
      ['history.db', historyRows],
    ] as const) {
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
  const service = (
    dir: string,
    config: { BACKUP_RESERVE_MB?: number; BACKUP_TIMEOUT_MS?: number } = {},
  ) => new BackupService({ DATA_DIR: dir, ...config });
  /** What create() rejected with: its HTTP status and message. */
  const failure = async (made: Promise<unknown>) => {
    const error = (await made.then(
      () => {
        throw new Error('the backup was made');
      },
      (e: unknown) => e,
    )) as { getStatus?: () => number; message: string };
    return { status: error.getStatus?.(), message: error.message };
  };

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

  it('refuses (507) a backup the disk has not room for with the reserve, writes nothing, and counts it', async () => {
    const dir = dataDir();
    // More than this machine's disk has free: the real statfs answer, not a mock.
    const sut = service(dir, { BACKUP_RESERVE_MB: 1_000_000_000 });

    const refused = await failure(sut.create());

    expect(refused.status).toBe(507);
    expect(refused.message).toMatch(
      /^not enough free disk space for a backup: it needs about \d+ MiB for the copy and \d+ MiB kept free for the live stores \(BACKUP_RESERVE_MB\).* MiB free\..*nothing was written$/,
    );
    expect(readdirSync(join(dir, BACKUPS_DIR))).toEqual([]);
    expect(await sut.stats()).toEqual({
      made: 0,
      refused: { busy: 0, no_space: 1 },
      failed: { timeout: 0, no_space: 0, error: 0, corrupt: 0 },
    });
    // The default reserve fits on this machine's disk.
    await expect(service(dir).create()).resolves.toMatchObject({ name: expect.any(String) });
  });

  it('refuses (507) a backup whose copy would eat into the reserve, on its estimate of the copy', async () => {
    const dir = dataDir(20_000); // history.db ~20 MiB
    const size = (file: string) =>
      existsSync(join(dir, file)) ? statSync(join(dir, file)).size : 0;
    const need =
      ['pulse.db', 'pulse.db-wal', 'history.db', 'history.db-wal', 'secret.key'].reduce(
        (sum, file) => sum + size(file),
        0,
      ) + size(join('history-journal', 'gateway-a', '000001.jsonl'));
    const MiB = 1024 * 1024;
    const freeMiB = () => {
      const { bavail, bsize } = statfsSync(dir);
      return Math.floor((bavail * bsize) / MiB);
    };
    // A reserve the disk has, with less than the copy beside it (4 MiB, the copy ~20 MiB).
    const sut = service(dir, { BACKUP_RESERVE_MB: freeMiB() - 4 });

    const refused = await failure(sut.create());

    expect(refused.status).toBe(507);
    expect(refused.message).toContain(`it needs about ${Math.ceil(need / MiB)} MiB for the copy`);
    expect(readdirSync(join(dir, BACKUPS_DIR))).toEqual([]);
    expect((await sut.stats()).refused).toEqual({ busy: 0, no_space: 1 });
    // With room for the copy beside the reserve (and a margin for whatever else writes to this
    // disk meanwhile), it is made.
    const roomy = service(dir, { BACKUP_RESERVE_MB: freeMiB() - Math.ceil(need / MiB) - 256 });
    await expect(roomy.create()).resolves.toMatchObject({ name: expect.any(String) });
  });

  it('stops a copy that hangs at its time limit, removes its partial copy, counts it, and the next backup is made', async () => {
    const dir = dataDir();
    // A store whose open never returns, as on a disk that does not answer: a FIFO with no writer.
    const store = join(dir, 'pulse.db');
    rmSync(store);
    execFileSync('mkfifo', [store]);
    const sut = service(dir, { BACKUP_TIMEOUT_MS: 1_000 });
    const forked = jest.spyOn(childProcess, 'fork');
    const started = Date.now();

    const failed = await failure(sut.create());
    const copying = forked.mock.results[0].value as childProcess.ChildProcess;
    forked.mockRestore();

    expect(Date.now() - started).toBeLessThan(5_000);
    expect(failed.status).toBe(500);
    expect(failed.message).toMatch(
      /partial copy removed.*did not finish within 1 s \(BACKUP_TIMEOUT_MS\)/,
    );
    expect(readdirSync(join(dir, BACKUPS_DIR))).toEqual([]);
    expect((await sut.stats()).failed).toEqual({ timeout: 1, no_space: 0, error: 0, corrupt: 0 });
    // Stopped, not only abandoned: the copying process is gone (reaped) when the answer is given.
    expect(() => process.kill(copying.pid as number, 0)).toThrow(
      expect.objectContaining({ code: 'ESRCH' }),
    );
    // Not "in progress" for ever: with the store back, the next one is made.
    rmSync(store);
    const db = new BetterSqlite3(store);
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    db.close();
    const made = await sut.create();
    expect(readdirSync(join(dir, BACKUPS_DIR))).toEqual([made.name]);
    expect((await sut.stats()).made).toBe(1);
  });

  it('a key or journal that does not answer is inside the time limit, and the gateway goes on serving meanwhile', async () => {
    const dir = dataDir();
    // The key on a disk that does not answer for 3 s: a FIFO whose writer comes late.
    const key = join(dir, 'secret.key');
    rmSync(key);
    execFileSync('mkfifo', [key]);
    const writer = spawn('sh', ['-c', `sleep 3; : > '${key}'`], { stdio: 'ignore' });
    const sut = service(dir, { BACKUP_TIMEOUT_MS: 1_000 });
    // The event loop's longest stall while the backup is made.
    let last = Date.now();
    let stalled = 0;
    const ticks = setInterval(() => {
      stalled = Math.max(stalled, Date.now() - last);
      last = Date.now();
    }, 50);
    try {
      const failed = await failure(sut.create());

      expect(failed.status).toBe(500);
      expect(failed.message).toMatch(/did not finish within 1 s \(BACKUP_TIMEOUT_MS\)/);
      expect(stalled).toBeLessThan(1_000);
      expect(readdirSync(join(dir, BACKUPS_DIR))).toEqual([]);
    } finally {
      clearInterval(ticks);
      writer.kill();
    }
  });

  it('with DATABASE_URL, makes the backup without waiting for the PostgreSQL stores to flush (they are not in it)', async () => {
    const dir = dataDir();
    const registry = { flushAll: jest.fn(() => Promise.resolve()) };
    const alerts = { flush: jest.fn(() => Promise.resolve()) };
    const sut = new BackupService(
      { DATA_DIR: dir, DATABASE_URL: 'postgres://pulse@127.0.0.1:1/pulse' },
      registry as unknown as DeviceRegistryService,
      alerts as unknown as AlertsService,
    );

    const made = await sut.create();

    expect(made.files.map((f) => f.name)).toEqual(
      expect.arrayContaining(['pulse.db', 'secret.key']),
    );
    expect(made.files.map((f) => f.name)).not.toContain('history.db');
    expect(registry.flushAll).not.toHaveBeenCalled();
    expect(alerts.flush).not.toHaveBeenCalled();
    // Without it they are SQLite tables in pulse.db: written first.
    await service(dir).create();
    const embedded = new BackupService({ DATA_DIR: dir }, registry as never, alerts as never);
    await embedded.create();
    expect(registry.flushAll).toHaveBeenCalledTimes(1);
    expect(alerts.flush).toHaveBeenCalledTimes(1);
  });

  it('a copy that fails midway leaves no partial copy and says why (500), counted', async () => {
    const dir = dataDir();
    // history.db is copied after pulse.db: a file that is not a database fails the second copy.
    writeFileSync(join(dir, 'history.db'), 'not a database '.repeat(1000));
    rmSync(join(dir, 'history.db-wal'), { force: true });
    const sut = service(dir);

    const failed = await failure(sut.create());

    expect(failed.status).toBe(500);
    expect(failed.message).toMatch(
      /^backup failed, its partial copy removed \(.*\.partial\): file is not a database$/,
    );
    expect(readdirSync(join(dir, BACKUPS_DIR))).toEqual([]);
    expect((await sut.stats()).failed).toEqual({ timeout: 0, no_space: 0, error: 1, corrupt: 0 });
  });

  it("a copy that fails SQLite's quick_check fails the backup (500 with what SQLite said, counted) and pushes no good backup out", async () => {
    const dir = dataDir();
    const sut = service(dir);
    const good: string[] = [];
    for (let i = 0; i < 3; i++) good.push((await sut.create()).name);
    // A row that breaks its column's NOT NULL: VACUUM INTO copies records as they are (its
    // transfer skips the constraints), so the copy holds it too, as a copy torn or cut short by
    // the disk would hold a fault; quick_check finds it in the copy. The schema edited the only
    // way SQLite lets one, writable_schema (better-sqlite3's unsafe mode allows it).
    const db = new BetterSqlite3(join(dir, 'history.db'));
    db.exec('INSERT INTO t (v) VALUES (NULL)');
    db.unsafeMode(true);
    db.pragma('writable_schema = ON');
    db.exec(
      "UPDATE sqlite_schema SET sql = 'CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)' WHERE name = 't'",
    );
    db.close();

    const failed = await failure(sut.create());

    expect(failed.status).toBe(500);
    expect(failed.message).toMatch(
      /^backup failed, its partial copy removed \(.*\.partial\): the copy of history\.db failed SQLite's quick_check: NULL value in t\.v$/,
    );
    expect(readdirSync(join(dir, BACKUPS_DIR)).sort()).toEqual(good);
    expect((await sut.stats()).failed).toEqual({ timeout: 0, no_space: 0, error: 0, corrupt: 1 });
  });

  it('a second backup asked while one is made is refused (409) and counted', async () => {
    const sut = service(dataDir());
    const first = sut.create();
    const second = await failure(sut.create());
    expect(second.status).toBe(409);
    await first;
    expect(await sut.stats()).toMatchObject({ made: 1, refused: { busy: 1, no_space: 0 } });
  });

  it('says when the newest backup was made, one kept from before the start too', async () => {
    const dir = dataDir();
    const sut = service(dir);
    await sut.onModuleInit();
    expect((await sut.stats()).lastMadeAt).toBeUndefined();

    const made = await sut.create();

    expect((await sut.stats()).lastMadeAt).toBe(made.createdAt);
    // A gateway started later (or the other one sharing the folder) finds it there.
    const restarted = service(dir);
    await restarted.onModuleInit();
    expect((await restarted.stats()).lastMadeAt).toBe(made.createdAt);
  });

  describe('two gateways sharing one DATA_DIR (docker-compose.yml mounts one volume on both)', () => {
    /** Resolves once a backup under way has a partial copy of history.db. */
    const copying = async (root: string) => {
      const partial = () =>
        existsSync(root) &&
        readdirSync(root).find(
          (name) => name.endsWith('.partial') && existsSync(join(root, name, 'history.db')),
        );
      for (const until = Date.now() + 20_000; !partial(); ) {
        if (Date.now() > until) throw new Error('never saw history.db being copied');
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      return partial() as string;
    };
    /** A lock as a gateway leaves it while it makes a backup. */
    const lock = (
      dir: string,
      holder: {
        pid: number;
        host: string;
        pidNamespace?: string;
        until: number;
        startedAt?: number;
      },
    ) => {
      mkdirSync(join(dir, BACKUPS_DIR), { recursive: true });
      writeFileSync(
        join(dir, BACKUPS_DIR, BACKUP_LOCK),
        JSON.stringify({ id: 'theirs', startedAt: Date.now() - 1_000, ...holder }),
      );
    };
    /** A pid no process has now. */
    const deadPid = () => spawnSync('true').pid as number;
    /** This process's, as its locks say (Linux). */
    const pidNamespace = readlinkSync('/proc/self/ns/pid');

    it("one gateway's backup while the other's is made is refused (409, counted) and leaves the other's copy alone", async () => {
      const dir = dataDir(60_000);
      const root = join(dir, BACKUPS_DIR);
      const first = service(dir);
      const second = service(dir);
      const made = first.create();
      const partial = await copying(root);

      const refused = await failure(second.create());

      expect(refused.status).toBe(409);
      expect(refused.message).toMatch(/a backup is being made/);
      expect((await second.stats()).refused).toEqual({ busy: 1, no_space: 0 });
      expect(existsSync(join(root, partial))).toBe(true);
      const info = await made;
      expect(readdirSync(root)).toEqual([info.name]); // whole, and the lock released
      const db = new BetterSqlite3(join(info.path, 'history.db'), { readonly: true });
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();
      // Done: the other may make one now.
      await expect(second.create()).resolves.toMatchObject({ name: expect.any(String) });
    }, 30_000);

    it("takes over a lock its holder left (a dead process of this host, or past its time), and removes the holder's partial copy", async () => {
      const dir = dataDir();
      const root = join(dir, BACKUPS_DIR);
      const cut = join(root, '2026-01-01T00-00-00-000Z.partial');
      // Another gateway's (another host's) backup, within its time: refused.
      lock(dir, { pid: process.pid, host: 'gateway-b', until: Date.now() + 60_000 });
      mkdirSync(cut);
      expect((await failure(service(dir).create())).status).toBe(409);
      expect(existsSync(cut)).toBe(true);
      // Past its time: its holder is stopped or stuck; taken over.
      lock(dir, { pid: process.pid, host: 'gateway-b', until: Date.now() - 1 });
      const made = await service(dir).create();
      expect(readdirSync(root)).toEqual([made.name]);
      // A process of this host (and pid namespace) that is gone: taken over at once.
      lock(dir, { pid: deadPid(), host: hostname(), pidNamespace, until: Date.now() + 60_000 });
      mkdirSync(cut);
      const next = await service(dir).create();
      expect(readdirSync(root).sort()).toEqual([made.name, next.name].sort());
      // This very pid, host and pid namespace, from before this process started: the host
      // rebooted while its gateway made a backup (the first pid namespace's number is fixed).
      lock(dir, {
        pid: process.pid,
        host: hostname(),
        pidNamespace,
        startedAt: Date.now() - process.uptime() * 1000 - 60_000,
        until: Date.now() + 60_000,
      });
      const third = await service(dir).create();
      expect(readdirSync(root).sort()).toEqual([made.name, next.name, third.name].sort());
    });

    describe('flushes slower than the lock is held (the registry and alerts write first)', () => {
      afterEach(() => jest.restoreAllMocks());
      /** A gateway whose registry flush does `flush` (what happens meanwhile). */
      const flushing = (dir: string, flush: () => void) =>
        new BackupService({ DATA_DIR: dir, BACKUP_TIMEOUT_MS: 60_000 }, {
          flushAll: () => Promise.resolve(flush()),
        } as unknown as DeviceRegistryService);
      const clockAhead = () => {
        const real = Date.now.bind(Date);
        const clock = { ahead: 0 };
        jest.spyOn(Date, 'now').mockImplementation(() => real() + clock.ahead);
        return clock;
      };

      it('a backup whose flushes outlasted its lock gives up (409) without touching the folder: another gateway may be taking the lock over; the next backup is made', async () => {
        const dir = dataDir(60_000);
        const root = join(dir, BACKUPS_DIR);
        const clock = clockAhead();
        // Ten minutes flushing, past the lock's time as taken (the 1 min limit and 1 min margin).
        const slow = flushing(dir, () => {
          clock.ahead += 10 * 60_000;
        }).create();

        expect((await failure(slow)).status).toBe(409);
        expect(readdirSync(root)).toEqual([BACKUP_LOCK]); // left as it was, for the next taker

        const info = await service(dir).create();
        expect(readdirSync(root)).toEqual([info.name]);
      }, 30_000);

      it("a backup whose lock was taken over while it flushed leaves the new holder's partial copy and lock alone", async () => {
        const dir = dataDir();
        const root = join(dir, BACKUPS_DIR);
        const theirs = join(root, '2026-01-01T00-00-00-000Z.partial');
        const backup = flushing(dir, () => {
          // Meanwhile its lock passed its time, and another gateway took it over and began.
          rmSync(join(root, BACKUP_LOCK));
          lock(dir, { pid: 4242, host: 'gateway-b', until: Date.now() + 60_000 });
          mkdirSync(theirs);
        });

        const refused = await failure(backup.create());

        expect(refused.status).toBe(409);
        expect((await backup.stats()).refused.busy).toBe(1);
        expect(existsSync(theirs)).toBe(true);
        expect(JSON.parse(readFileSync(join(root, BACKUP_LOCK), 'utf8'))).toMatchObject({
          host: 'gateway-b',
        });
      });
    });

    it('removes a lock left aside in a three-gateway race, its holder gone, at the next backup', async () => {
      const dir = dataDir();
      const root = join(dir, BACKUPS_DIR);
      mkdirSync(root);
      const aside = join(root, `${BACKUP_LOCK}.0b7c6a52-3f0e-4a54-9a8e-1c2d3e4f5a6b`);
      writeFileSync(
        aside,
        JSON.stringify({
          id: 'theirs',
          pid: 4242,
          host: 'gateway-b',
          startedAt: Date.now() - 1_000,
          until: Date.now() + 60_000,
        }),
      );
      // Within its holder's time: kept (its holder may be copying, its mover putting it back).
      const first = await service(dir).create();
      expect(existsSync(aside)).toBe(true);
      // Two minutes later its holder is past its time and its mover long done.
      const real = Date.now.bind(Date);
      jest.spyOn(Date, 'now').mockImplementation(() => real() + 2 * 60_000);
      try {
        const next = await service(dir).create();
        expect(readdirSync(root).sort()).toEqual([first.name, next.name].sort());
      } finally {
        jest.restoreAllMocks();
      }
    });

    it("says when the other gateway's newest backup was made, read from the folder when the stats are read (within seconds)", async () => {
      const dir = dataDir();
      const first = service(dir);
      const second = service(dir);
      await first.onModuleInit();
      await second.onModuleInit();
      expect((await second.stats()).lastMadeAt).toBeUndefined();

      const made = await first.create();

      // Its own answers at once; the other's reads the folder again once its last read is
      // LAST_MADE_FRESH_MS old (a stats flood reads the folder once per that).
      expect((await first.stats()).lastMadeAt).toBe(made.createdAt);
      const real = Date.now.bind(Date);
      jest.spyOn(Date, 'now').mockImplementation(() => real() + LAST_MADE_FRESH_MS + 1);
      try {
        expect((await second.stats()).lastMadeAt).toBe(made.createdAt);
      } finally {
        jest.restoreAllMocks();
      }
    });

    it('a failed backup releases the lock', async () => {
      const dir = dataDir();
      writeFileSync(join(dir, 'history.db'), 'not a database '.repeat(1000));
      rmSync(join(dir, 'history.db-wal'), { force: true });
      expect((await failure(service(dir).create())).status).toBe(500);
      expect(readdirSync(join(dir, BACKUPS_DIR))).toEqual([]);
    });

    it('a journal segment deleted while the journal is copied (its readings stored by then) is left out, the backup made', async () => {
      const dir = dataDir();
      // Listed, and gone when it is opened: what the other gateway's flush does to its segment.
      symlinkSync(
        join(dir, 'history-journal', 'gateway-b', '000009.jsonl'),
        join(dir, 'history-journal', 'gateway-a', '000002.jsonl'),
      );

      const made = await service(dir).create();

      expect(made.files.map((f) => f.name)).toEqual(
        expect.arrayContaining([join('history-journal', 'gateway-a', '000001.jsonl')]),
      );
      expect(made.files.map((f) => f.name)).not.toContain(
        join('history-journal', 'gateway-a', '000002.jsonl'),
      );
    });
  });

  it('holds the journal segments of readings stored while the stores were copied (the journal is taken first)', async () => {
    // history.db large enough that its copy takes a while (~60 MB).
    const dir = dataDir(60_000);
    const segment = join(dir, 'history-journal', 'gateway-a', '000001.jsonl');
    const root = join(dir, BACKUPS_DIR);
    const made = service(dir).create();
    // While history.db is copied, the gateway stores the segment's readings (after the copy's
    // snapshot) and deletes the segment, as it does once a flush is written.
    const copying = () =>
      existsSync(root) &&
      readdirSync(root).some(
        (name) => name.endsWith('.partial') && existsSync(join(root, name, 'history.db')),
      );
    for (const until = Date.now() + 20_000; !copying(); ) {
      if (Date.now() > until) throw new Error('never saw history.db being copied');
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    rmSync(segment);

    const info = await made;

    // Those readings are in neither the copied history.db nor, unless the journal was copied
    // before the snapshot, in the backup at all.
    expect(
      readFileSync(join(info.path, 'history-journal', 'gateway-a', '000001.jsonl'), 'utf8'),
    ).toBe('{"v":1}\n');
  }, 30_000);

  it("says a copying process's own error when it died before answering, not where Node printed it", () => {
    // What Node prints when a script fails to load a module (as the copy would without
    // better-sqlite3's native build): the stack's location comes first, the error after it.
    const { stderr, status } = spawnSync(
      process.execPath,
      ['-e', "require('better-sqlite3-not-installed')"],
      { encoding: 'utf8', env: {} },
    );
    expect(stderr.split('\n')[0]).toMatch(/^node:internal/);

    expect(copyingProcessDied(status, null, stderr)).toBe(
      "the copying process ended (1) before it was done: Error: Cannot find module 'better-sqlite3-not-installed'",
    );
    expect(copyingProcessDied(null, 'SIGKILL', '')).toBe(
      'the copying process ended (SIGKILL) before it was done',
    );
    expect(copyingProcessDied(1, null, 'out of memory\n')).toBe(
      'the copying process ended (1) before it was done: out of memory',
    );
  });
});
