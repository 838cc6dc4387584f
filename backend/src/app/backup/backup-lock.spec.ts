/**
 * BackupLock on its own (decision 0071): a real lock file in a folder of the test's; the other
 * gateway's steps are made to fall between this one's by running them just before this one's
 * rename or removal of the lock (a spy on fs or fs/promises that calls the real function after).
 */
import fs from 'node:fs';
import fsPromises from 'node:fs/promises';
import {
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKUP_LOCK, BackupLock, EXTEND_MARGIN_MS, SET_ASIDE_SETTLED_MS } from './backup-lock';

describe('BackupLock', () => {
  const dirs: string[] = [];
  afterEach(() => jest.restoreAllMocks());
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  const folder = () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-backup-lock-'));
    dirs.push(dir);
    return dir;
  };
  /** A lock as another gateway leaves it (on another host unless `host` says otherwise). */
  const holder = (fields: {
    id: string;
    until: number;
    host?: string;
    pid?: number;
    pidNamespace?: string;
  }) => JSON.stringify({ pid: 4242, host: 'gateway-b', startedAt: Date.now() - 1_000, ...fields });
  const lockIn = (dir: string) => join(dir, BACKUP_LOCK);
  const held = (dir: string) =>
    JSON.parse(readFileSync(lockIn(dir), 'utf8')) as { id: string; until: number };
  /** Runs `step` once, just before the first fs/promises `name` call on the lock file. */
  const before = (name: 'rename' | 'rm', dir: string, step: () => void) =>
    beforeCall(fsPromises, name, dir, step);
  /** As before(), any module's function. */
  const beforeCall = <M extends object>(
    module: M,
    name: keyof M,
    dir: string,
    step: () => void,
  ) => {
    const real = module[name] as (...args: unknown[]) => unknown;
    let done = false;
    return jest.spyOn(module, name as never).mockImplementation(((...args: unknown[]) => {
      if (!done && args[0] === lockIn(dir)) {
        done = true;
        step();
      }
      return real(...args);
    }) as never);
  };

  it('takes a free lock, and a stale one (past its time) once it has set it aside', async () => {
    const dir = folder();
    writeFileSync(lockIn(dir), holder({ id: 'theirs', until: Date.now() - 1 }));

    const lock = await BackupLock.take(dir, 60_000);

    expect(lock).toBeInstanceOf(BackupLock);
    expect(readdirSync(dir)).toEqual([BACKUP_LOCK]);
    expect(held(dir).id).not.toBe('theirs');
  });

  it("does not take a lock another gateway took over meanwhile in the stale lock's inode (ext4 reuses a freed inode at once)", async () => {
    const dir = folder();
    writeFileSync(lockIn(dir), holder({ id: 'stale', until: Date.now() - 1 }));
    const ino = statSync(lockIn(dir)).ino;
    // Between this taker's look and its rename, gateway A set the stale lock aside, removed it and
    // made its own, which got the freed inode: written in place here, the same inode for sure.
    before('rename', dir, () =>
      writeFileSync(lockIn(dir), holder({ id: 'gateway-a', until: Date.now() + 60_000 })),
    );

    const taken = await BackupLock.take(dir, 60_000);

    expect(taken).toEqual({ heldBy: expect.objectContaining({ id: 'gateway-a' }) });
    expect(held(dir).id).toBe('gateway-a'); // put back
    expect(statSync(lockIn(dir)).ino).toBe(ino);
    expect(readdirSync(dir)).toEqual([BACKUP_LOCK]);
  });

  it('does not take an unreadable lock made meanwhile in the inode of an unreadable stale one', async () => {
    const dir = folder();
    writeFileSync(lockIn(dir), '');
    const old = new Date(Date.now() - 120_000);
    utimesSync(lockIn(dir), old, old);
    // A's lock, created and not yet written: empty too, but of now.
    before('rename', dir, () => writeFileSync(lockIn(dir), ''));

    const taken = await BackupLock.take(dir, 60_000);

    expect(taken).toEqual({ heldBy: undefined });
    expect(readFileSync(lockIn(dir), 'utf8')).toBe('');
    expect(readdirSync(dir)).toEqual([BACKUP_LOCK]);
  });

  it("leaves a lock it moved by mistake where it is, and refuses, when a third gateway's lock took its place", async () => {
    const dir = folder();
    writeFileSync(lockIn(dir), holder({ id: 'stale', until: Date.now() - 1 }));
    const real = fsPromises.rename;
    jest.spyOn(fsPromises, 'rename').mockImplementationOnce(async (from, to) => {
      // A took the stale lock over just before this rename, C made a lock just after it.
      writeFileSync(lockIn(dir), holder({ id: 'gateway-a', until: Date.now() + 60_000 }));
      await real(from, to);
      writeFileSync(lockIn(dir), holder({ id: 'gateway-c', until: Date.now() + 60_000 }), {
        flag: 'wx',
      });
    });

    const taken = await BackupLock.take(dir, 60_000);

    expect(taken).toEqual({ heldBy: expect.objectContaining({ id: 'gateway-a' }) });
    expect(held(dir).id).toBe('gateway-c');
    const aside = readdirSync(dir).filter((name) => name !== BACKUP_LOCK);
    expect(aside).toHaveLength(1); // A's, left aside
    expect(JSON.parse(readFileSync(join(dir, aside[0]), 'utf8')).id).toBe('gateway-a');
  });

  describe('locks left aside (the three-gateway race: a moved lock whose place a third took)', () => {
    /** A lock left aside under its mover's id, as setAside or release names it. */
    const leftAside = (dir: string, content: string) => {
      const name = `${BACKUP_LOCK}.${randomUUID()}`;
      writeFileSync(join(dir, name), content);
      return name;
    };
    /** The clock `ms` ahead: what was set aside just now was set aside that long ago. */
    const later = (ms: number) => {
      const real = Date.now.bind(Date);
      jest.spyOn(Date, 'now').mockImplementation(() => real() + ms);
    };
    const deadPid = () => spawnSync('true').pid as number;

    it('are removed at the next backup under the lock once their holder is gone (past its time, or a dead process of this host) and their mover long done', async () => {
      const dir = folder();
      const pastItsTime = leftAside(dir, holder({ id: 'a', until: Date.now() - 1 }));
      const dead = leftAside(
        dir,
        holder({
          id: 'b',
          host: hostname(),
          pidNamespace: readlinkSync('/proc/self/ns/pid'),
          pid: deadPid(),
          until: Date.now() + 60 * 60_000,
        }),
      );
      const unreadable = leftAside(dir, '');
      later(SET_ASIDE_SETTLED_MS + 1_000);
      const lock = (await BackupLock.take(dir, 60_000)) as BackupLock;

      expect(readdirSync(dir).sort()).toEqual([BACKUP_LOCK, dead, pastItsTime, unreadable].sort());
      expect(await lock.removeLeftAside()).toBe(3);

      expect(readdirSync(dir)).toEqual([BACKUP_LOCK]);
      expect(held(dir).id).not.toMatch(/^[ab]$/); // its own, left as it is
    });

    it('are kept while their holder may still be making a backup, or their mover may still put them back (set aside within the last minute)', async () => {
      const dir = folder();
      const lock = (await BackupLock.take(dir, 60_000)) as BackupLock;
      // Another host's lock within its time: its holder is copying (and finds it lost at its
      // next step); only its time says it is gone.
      const live = leftAside(dir, holder({ id: 'live', until: Date.now() + 60 * 60_000 }));
      // Stale, but moved aside just now: its mover is between its rename and its link or rm.
      const justMoved = leftAside(dir, holder({ id: 'stale', until: Date.now() - 1 }));

      expect(await lock.removeLeftAside()).toBe(0);
      expect(readdirSync(dir).sort()).toEqual([BACKUP_LOCK, justMoved, live].sort());

      later(SET_ASIDE_SETTLED_MS + 1_000);
      expect(await lock.removeLeftAside()).toBe(1);
      expect(readdirSync(dir).sort()).toEqual([BACKUP_LOCK, live].sort());
    });
  });

  describe('its holder', () => {
    /** Another gateway takes the lock over (this one past its time): sets it aside, makes its own. */
    const takenOver = (dir: string) => () => {
      unlinkSync(lockIn(dir)); // not rmSync: spied on below
      writeFileSync(lockIn(dir), holder({ id: 'gateway-b', until: Date.now() + 60_000 }));
    };

    it('lets it go', async () => {
      const dir = folder();
      const lock = (await BackupLock.take(dir, 60_000)) as BackupLock;

      await lock.release();

      expect(readdirSync(dir)).toEqual([]);
    });

    it('leaves the lock of a gateway that took it over just before the release', async () => {
      const dir = folder();
      const lock = (await BackupLock.take(dir, 60_000)) as BackupLock;
      // Whichever step of the release moves or removes the lock file, the takeover just before it.
      before('rename', dir, takenOver(dir));
      before('rm', dir, takenOver(dir));

      await lock.release();

      expect(held(dir).id).toBe('gateway-b');
      expect(readdirSync(dir)).toEqual([BACKUP_LOCK]);
    });

    it('leaves it, at shutdown too, when a gateway took it over just before', async () => {
      const dir = folder();
      const lock = (await BackupLock.take(dir, 60_000)) as BackupLock;
      beforeCall(fs, 'renameSync', dir, takenOver(dir));
      beforeCall(fs, 'rmSync', dir, takenOver(dir));

      lock.releaseNow();

      expect(held(dir).id).toBe('gateway-b');
      expect(readdirSync(dir)).toEqual([BACKUP_LOCK]);
    });

    it('holds it longer from when its time limit starts, while it is still its own', async () => {
      const dir = folder();
      const lock = (await BackupLock.take(dir, 10_000)) as BackupLock;
      const taken = held(dir);

      expect(await lock.extend(60_000)).toBe(true);

      const now = held(dir);
      expect(now.id).toBe(taken.id);
      expect(now.until).toBeGreaterThanOrEqual(taken.until + 49_000);
      // Past its time it was taken over: not its own to hold, and left as it is.
      takenOver(dir)();
      expect(await lock.extend(60_000)).toBe(false);
      expect(held(dir).id).toBe('gateway-b');
    });
  });

  it('puts back a stale lock its holder held longer between the look and the move', async () => {
    const dir = folder();
    writeFileSync(lockIn(dir), holder({ id: 'slow-flush', until: Date.now() - 1 }));
    // Its holder's flushes ended and it extended the lock (the same id, a new time) just then.
    before('rename', dir, () =>
      writeFileSync(lockIn(dir), holder({ id: 'slow-flush', until: Date.now() + 60_000 })),
    );

    const taken = await BackupLock.take(dir, 60_000);

    expect(taken).toEqual({ heldBy: expect.objectContaining({ id: 'slow-flush' }) });
    expect(held(dir).id).toBe('slow-flush');
    expect(readdirSync(dir)).toEqual([BACKUP_LOCK]);
  });

  it(`is not held longer once within ${EXTEND_MARGIN_MS} ms of its time (another may be taking it): lost, and left alone`, async () => {
    const dir = folder();
    const lock = (await BackupLock.take(dir, EXTEND_MARGIN_MS - 1)) as BackupLock;
    const taken = held(dir);

    expect(await lock.extend(60_000)).toBe(false);
    await lock.release();
    lock.releaseNow();

    expect(held(dir)).toEqual(taken); // not rewritten, not moved: the next taker's to judge
    expect(readdirSync(dir)).toEqual([BACKUP_LOCK]);
  });

  describe('a holder on this host, its pid not running', () => {
    /** A pid no process has now. */
    const deadPid = () => spawnSync('true').pid as number;
    const itOnLinux = (() => {
      try {
        readlinkSync('/proc/self/ns/pid');
        return it;
      } catch {
        return it.skip; // no pid namespaces: the host name alone says "this machine"
      }
    })();

    itOnLinux('is gone when it was in this pid namespace: taken over at once', async () => {
      const dir = folder();
      const ns = readlinkSync('/proc/self/ns/pid');
      writeFileSync(
        lockIn(dir),
        holder({
          id: 'theirs',
          host: hostname(),
          pidNamespace: ns,
          pid: deadPid(),
          until: Date.now() + 60_000,
        }),
      );

      expect(await BackupLock.take(dir, 60_000)).toBeInstanceOf(BackupLock);
      expect(held(dir)).toMatchObject({ pid: process.pid, host: hostname(), pidNamespace: ns });
    });

    itOnLinux(
      'is not gone when it was in another pid namespace (a container with host networking: same host name, its own pids), nor when it does not say',
      async () => {
        const dir = folder();
        for (const pidNamespace of ['pid:[1]', undefined]) {
          writeFileSync(
            lockIn(dir),
            holder({
              id: 'theirs',
              host: hostname(),
              pidNamespace,
              pid: deadPid(),
              until: Date.now() + 60_000,
            }),
          );

          expect(await BackupLock.take(dir, 60_000)).toEqual({
            heldBy: expect.objectContaining({ id: 'theirs' }),
          });
          expect(held(dir).id).toBe('theirs');
        }
      },
    );
  });
});
