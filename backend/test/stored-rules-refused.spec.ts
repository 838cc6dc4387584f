import type { AlertRulesResponse, IngestStats } from '@pulse/protocol';
import { sendJson } from '@pulse/test-support';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAlertRule } from '../src/app/alerts/alert-rules.loader';
import { SqliteAlertStore } from '../src/app/alerts/sqlite-alert.store';
import { Database } from '../src/app/store/database';
import { adminAuth, usePulse, userToken } from './support/pulse';

const dir = mkdtempSync(join(tmpdir(), 'pulse-refused-rules-'));
const kept = parseAlertRule({ id: 'kept', kind: 'offline', severity: 'major' });
// As an older version saved it: `loud` is no severity this version knows.
const stale = { id: 'stale', kind: 'offline', severity: 'loud' };

// Real: the whole backend on a SQLite store that an older version wrote. After an upgrade that
// tightened the schema the gateway starts anyway (a wall with live data and every other alert),
// and says which stored rule it does not run: to admins in the rule list, to monitoring in its
// counters (docs/decisions/0072, addendum 2).
describe('stored alert rules the schema refuses at boot', () => {
  beforeAll(async () => {
    const database = new Database({ DATA_DIR: dir });
    await new SqliteAlertStore(database).saveRules([kept, stale]);
    database.onApplicationShutdown();
  });
  const backend = usePulse({ env: { DATA_DIR: dir } });
  const { api } = backend;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts, runs the others and lists the refused ones to admins only, with why', async () => {
    const auth = await adminAuth(backend.pulse.httpUrl);
    const admin = await sendJson<AlertRulesResponse>(api('/alert-rules'), 'GET', undefined, auth);
    expect(admin.status).toBe(200);
    expect(admin.body.rules.map((r) => r.id)).toEqual(['kept']);
    expect(admin.body.refused).toEqual([
      { id: 'stale', issues: [expect.stringMatching(/^severity: /)] },
    ]);

    const viewer = await userToken(backend.pulse.httpUrl, 'wall', 'viewer');
    const seen = await sendJson<AlertRulesResponse>(api('/alert-rules'), 'GET', undefined, {
      authorization: `Bearer ${viewer}`,
    });
    expect(seen.body.refused).toBeUndefined();
  });

  it('counts them in /api/stats and in a Prometheus gauge', async () => {
    const auth = await adminAuth(backend.pulse.httpUrl);
    const stats = await sendJson<IngestStats>(api('/stats'), 'GET', undefined, auth);
    expect(stats.body.alerts.storedRulesRefused).toBe(1);
    const metrics = await (await fetch(api('/metrics'), { headers: auth })).text();
    expect(metrics).toMatch(/^pulse_alert_stored_rules_refused(\{[^}]*\})? 1$/m);
  });
});
