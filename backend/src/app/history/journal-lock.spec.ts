/**
 * JournalLock on its own (decision 0073): a real folder, real SQLite locks. A second taking in
 * this process is refused as a second process is (SQLite keeps each connection's locks apart
 * within a process); a holder killed is one-gateway-per-journal.spec's (the built gateway).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { StartupError } from '../config/config';
import { JOURNAL_HOLDER, JOURNAL_LOCK, JournalLock } from './journal-lock';

describe('JournalLock', () => {
  let dir: string;
  const held: JournalLock[] = [];
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'pulse-journal-lock-'))));
  afterEach(() => {
    for (const lock of held.splice(0)) lock.release();
    rmSync(dir, { recursive: true, force: true });
  });
  const take = () => {
    const lock = JournalLock.take(dir);
    held.push(lock);
    return lock;
  };
  const refusal = () => {
    try {
      take();
    } catch (error) {
      return error as Error;
    }
    throw new Error('taken twice');
  };

  it('is refused to a second taker while held, naming the holder: pid, host and since when', () => {
    const since = Date.now();
    take();

    const error = refusal();

    expect(error).toBeInstanceOf(StartupError);
    expect(error.message).toContain(`is held by process ${process.pid} on ${hostname()} since `);
    const named = Date.parse(/since (\S+):/.exec(error.message)?.[1] ?? '');
    expect(named).toBeGreaterThanOrEqual(since - 1);
    expect(error.message).toContain(
      'is Pulse already running with this DATA_DIR (and GATEWAY_ID)?',
    );
  });

  it('is taken again once released, and leaves only its lock file behind', () => {
    take().release();

    expect(readdirSync(dir)).toEqual([JOURNAL_LOCK]);
    expect(() => take()).not.toThrow();
  });

  it('is refused all the same when who holds it cannot be read', () => {
    take();
    writeFileSync(join(dir, JOURNAL_HOLDER), '{"pid":');

    expect(refusal().message).toContain('is held by another process (which has not said who it is');
  });
});
