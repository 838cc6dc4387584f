/**
 * Backups while the gateway runs (decision 0071). In process, SQLite under a DATA_DIR of the
 * test's: an admin makes a backup while a device publishes; a gateway started on an empty
 * DATA_DIR holding only the backup's files has the history stored before it, the users, and
 * accepts the tokens made before it (the signing key came along).
 */
import type { BackupInfo, BackupListResponse, HistoryResponse, IngestStats } from '@pulse/protocol';
import {
  connectMqtt,
  E2E_ADMIN_PASSWORD,
  endMqtt,
  freePort,
  getJson,
  publishTelemetry,
  sendJson,
  SIMULATOR_MAIN,
  spawnNode,
  startBuiltBackend,
  waitFor,
} from '@pulse/test-support';
import BetterSqlite3 from 'better-sqlite3';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKUPS_KEPT } from '../src/app/backup/backup.service';
import { PulseHandle } from '../src/app/pulse';
import { adminAuth, login, startTestPulse, tokenFor, userToken } from './support/pulse';

const MIN = 60_000;

describe('backups of a running gateway', () => {
  const dirs: string[] = [];
  const gateways: PulseHandle[] = [];
  const tempDir = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
  const start = async (dataDir: string) => {
    const gateway = await startTestPulse({ DATA_DIR: dataDir, HISTORY_FLUSH_MS: '50' });
    gateways.push(gateway);
    return gateway;
  };
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.close()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('makes a consistent backup while readings are written, and a gateway started from it has the history, the users and the tokens', async () => {
    const dataDir = tempDir('pulse-backup-');
    const pulse = await start(dataDir);
    const admin = await adminAuth(pulse.httpUrl);
    const operatorToken = await userToken(pulse.httpUrl, 'olga', 'operator');
    // 2 h of a tank's readings, one a minute, stored.
    const end = Date.now() - 5 * MIN;
    const past = Array.from({ length: 120 }, (_, i) => ({
      ts: end - (119 - i) * MIN,
      values: { level: i },
    }));
    const device = await connectMqtt(pulse.mqttUrl);
    await publishTelemetry(device, 'tank-1', past);
    await waitFor(
      async () => {
        const store = (await getJson<IngestStats>(`${pulse.httpUrl}/api/stats`)).body.history.store;
        return (store && store.queued === 0 && store.written >= 120) || undefined;
      },
      { message: '120 values stored', timeoutMs: 15_000 },
    );

    // A device keeps publishing while the backup is made.
    let publishing = true;
    const busy = (async () => {
      for (let i = 0; publishing; i++)
        await publishTelemetry(device, `busy-${i % 20}`, { values: { t: i } });
    })();
    const made = await sendJson<BackupInfo>(`${pulse.httpUrl}/api/backups`, 'POST', {}, admin);
    publishing = false;
    await busy;
    await endMqtt(device);
    expect(made.status).toBe(201);
    const backup = made.body;
    expect(backup.files.map((f) => f.name)).toEqual(
      expect.arrayContaining(['history.db', 'pulse.db', 'secret.key']),
    );
    expect(backup.path.startsWith(join(dataDir, 'backups'))).toBe(true);
    expect(backup.notes).toBeUndefined();
    // Readable, whole files, readable by their owner only.
    for (const store of ['pulse.db', 'history.db']) {
      const db = new BetterSqlite3(join(backup.path, store), { readonly: true });
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      db.close();
      expect(statSync(join(backup.path, store)).mode & 0o777).toBe(0o600);
    }
    expect(statSync(join(backup.path, 'secret.key')).mode & 0o777).toBe(0o600);
    // Listed; an operator may neither make nor list one.
    const listed = await getJson<BackupListResponse>(`${pulse.httpUrl}/api/backups`, admin);
    expect(listed.body.backups.map((b) => b.name)).toEqual([backup.name]);
    const asOperator = { authorization: `Bearer ${operatorToken}` };
    expect((await sendJson(`${pulse.httpUrl}/api/backups`, 'POST', {}, asOperator)).status).toBe(
      403,
    );
    expect((await getJson(`${pulse.httpUrl}/api/backups`, asOperator)).status).toBe(403);

    // Restored: the backup's files in an empty DATA_DIR.
    const restoredDir = tempDir('pulse-restored-');
    for (const name of readdirSync(backup.path))
      cpSync(join(backup.path, name), join(restoredDir, name), { recursive: true });
    const restored = await start(restoredDir);
    const history = await getJson<HistoryResponse>(
      `${restored.httpUrl}/api/devices/tank-1/history?from=${past[0].ts}&to=${end}`,
    );
    expect(history.body.series[0]?.v).toEqual(past.map((p) => p.values.level));
    expect(await login(restored.httpUrl, 'olga', 'olga-password')).toEqual(expect.any(String));
    // A token made before the backup still works (same signing key, same token list).
    expect((await getJson(`${restored.httpUrl}/api/backups`, admin)).status).toBe(200);
    expect((await getJson(`${restored.httpUrl}/api/devices`, asOperator)).status).toBe(200);
  }, 60_000);

  it('the CLI asks the built gateway for one and prints its folder; without an admin token it says how to give one', async () => {
    const dataDir = tempDir('pulse-backup-cli-');
    const built = await startBuiltBackend(
      { http: await freePort(), mqtt: await freePort() },
      { DATA_DIR: dataDir, SIMULATOR: 'off' },
    );
    try {
      const { token } = await tokenFor(built.httpUrl, 'admin', E2E_ADMIN_PASSWORD);
      const run = spawnNode(SIMULATOR_MAIN, ['backup', '--url', built.httpUrl], {
        env: { PULSE_TOKEN: token },
      });
      expect(await run.exit).toEqual({ code: 0, signal: null });
      const folder = run.stdout.trim();
      expect(folder.startsWith(join(dataDir, 'backups'))).toBe(true);
      expect(readdirSync(folder)).toEqual(
        expect.arrayContaining(['pulse.db', 'history.db', 'secret.key']),
      );
      expect(run.stderr).toContain('pulse.db');
      expect(run.stderr).not.toContain(token);

      const refused = spawnNode(SIMULATOR_MAIN, ['backup', '--url', built.httpUrl], {
        env: { PULSE_TOKEN: '' },
      });
      expect(await refused.exit).toEqual({ code: 2, signal: null });
      expect(refused.stderr).toContain('no admin token');
    } finally {
      await built.kill();
    }
  }, 60_000);

  it('with PULSE_SECRET_FILE, leaves the key out and says so; a backup cut short is never listed, and removed', async () => {
    const dataDir = tempDir('pulse-backup-secret-');
    const keyFile = join(tempDir('pulse-secret-'), 'key');
    writeFileSync(keyFile, `${'k'.repeat(64)}\n`, { mode: 0o600 });
    const pulse = await startTestPulse({ DATA_DIR: dataDir, PULSE_SECRET_FILE: keyFile });
    gateways.push(pulse);
    const admin = await adminAuth(pulse.httpUrl);
    // A backup the gateway was making when it was killed.
    const cut = join(dataDir, 'backups', '2026-01-01T00-00-00-000Z.partial');
    mkdirSync(cut, { recursive: true });
    const made = await sendJson<BackupInfo>(`${pulse.httpUrl}/api/backups`, 'POST', {}, admin);
    expect(made.status).toBe(201);
    expect(made.body.files.map((f) => f.name)).not.toContain('secret.key');
    expect(made.body.notes).toEqual([expect.stringContaining('PULSE_SECRET_FILE')]);
    const listed = await getJson<BackupListResponse>(`${pulse.httpUrl}/api/backups`, admin);
    expect(listed.body.backups.map((b) => b.name)).toEqual([made.body.name]);
    expect(existsSync(cut)).toBe(false);
  }, 60_000);

  it(`keeps the newest ${BACKUPS_KEPT} backups`, async () => {
    const pulse = await start(tempDir('pulse-backup-kept-'));
    const admin = await adminAuth(pulse.httpUrl);
    const names: string[] = [];
    for (let i = 0; i < BACKUPS_KEPT + 2; i++) {
      const made = await sendJson<BackupInfo>(`${pulse.httpUrl}/api/backups`, 'POST', {}, admin);
      expect(made.status).toBe(201);
      names.push(made.body.name);
    }
    const listed = await getJson<BackupListResponse>(`${pulse.httpUrl}/api/backups`, admin);
    expect(listed.body.backups.map((b) => b.name)).toEqual(names.slice(-BACKUPS_KEPT).reverse());
    // Counted as made, and the newest one's time for an alert on its age.
    const metrics = await (await fetch(`${pulse.httpUrl}/api/metrics`, { headers: admin })).text();
    expect(metrics).toMatch(
      new RegExp(`^pulse_backups_made_total\\{[^}]*\\} ${BACKUPS_KEPT + 2}$`, 'm'),
    );
    expect(metrics).toMatch(/# TYPE pulse_backups_last_made_timestamp_seconds gauge/);
    const last = /^pulse_backups_last_made_timestamp_seconds\{[^}]*\} (\S+)$/m.exec(metrics);
    expect(Number(last?.[1])).toBe(listed.body.backups[0].createdAt / 1000);
  }, 60_000);

  it('refuses a backup the disk has not room for (507, counted in stats and metrics); the CLI says so in words', async () => {
    const dataDir = tempDir('pulse-backup-full-');
    // A reserve larger than this machine's free space: refused on the real statfs answer.
    const pulse = await startTestPulse({ DATA_DIR: dataDir, BACKUP_RESERVE_MB: '1000000000' });
    gateways.push(pulse);
    const admin = await adminAuth(pulse.httpUrl);

    const refused = await sendJson<{ message: string }>(
      `${pulse.httpUrl}/api/backups`,
      'POST',
      {},
      admin,
    );
    expect(refused.status).toBe(507);
    expect(refused.body.message).toContain('not enough free disk space for a backup');
    expect(readdirSync(join(dataDir, 'backups'))).toEqual([]);

    const run = spawnNode(SIMULATOR_MAIN, ['backup', '--url', pulse.httpUrl], {
      env: { PULSE_TOKEN: admin.authorization.slice('Bearer '.length) },
    });
    expect(await run.exit).toEqual({ code: 1, signal: null });
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      'no backup made, not enough free disk space on the gateway (507): not enough free disk space',
    );
    expect(run.stderr).toContain('BACKUP_RESERVE_MB');

    const stats = (await getJson<IngestStats>(`${pulse.httpUrl}/api/stats`)).body;
    expect(stats.backups).toEqual({
      made: 0,
      refused: { busy: 0, no_space: 2 },
      failed: { timeout: 0, no_space: 0, error: 0, corrupt: 0 },
    });
    const metrics = await fetch(`${pulse.httpUrl}/api/metrics`, { headers: admin });
    expect(await metrics.text()).toMatch(
      /^pulse_backups_refused_total\{[^}]*reason="no_space"[^}]*\} 2$/m,
    );
  }, 60_000);
});
