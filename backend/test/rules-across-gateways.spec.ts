import type { AlertRule, AlertRulesResponse, IngestStats } from '@pulse/protocol';
import { getJson, RedisServer, sendJson, startRedis, waitFor } from '@pulse/test-support';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PulseHandle } from '../src/app/pulse';
import { adminAuth, startTestPulse } from './support/pulse';

// Real: redis-server, and two gateways in this process sharing it (REDIS_URL), each with its own
// embedded broker and DATA_DIR (its own SQLite store, as gateways without a shared DATABASE_URL
// have). An admin changes an alert rule on whichever gateway the balancer sends them to: every
// gateway must run the new rules, not only the one that answered the request.
describe('alert rules changed on one gateway apply on every gateway', () => {
  let redis: RedisServer;
  let a: PulseHandle;
  let b: PulseHandle;
  /** gw-b's DATA_DIR, kept across its restart. */
  const dirB = mkdtempSync(join(tmpdir(), 'pulse-rules-b-'));
  const startB = () => startTestPulse({ REDIS_URL: redis.url, GATEWAY_ID: 'gw-b', DATA_DIR: dirB });

  beforeAll(async () => {
    redis = await startRedis();
    [a, b] = await Promise.all([
      startTestPulse({ REDIS_URL: redis.url, GATEWAY_ID: 'gw-a' }),
      startB(),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a, b].map((g) => g?.close()));
    await redis?.stop();
    rmSync(dirB, { recursive: true, force: true });
  });

  const rulesOn = async (gateway: PulseHandle) =>
    (await getJson<AlertRulesResponse>(`${gateway.httpUrl}/api/alert-rules`)).body.rules;
  const hot = (value: number): AlertRule =>
    ({
      id: 'boiler-hot',
      kind: 'threshold',
      metric: 'temperature',
      op: 'above',
      value,
      severity: 'major',
    }) as AlertRule;

  it('a rule created, changed and deleted on one gateway is the same on the other within a second or two', async () => {
    const onA = await adminAuth(a.httpUrl);
    const onB = await adminAuth(b.httpUrl);
    const created = await sendJson(`${a.httpUrl}/api/alert-rules`, 'POST', hot(90), onA);
    expect(created.status).toBe(201);
    const seenOnB = (check: (rules: AlertRule[]) => boolean, message: string) =>
      waitFor(async () => check(await rulesOn(b)) || undefined, { timeoutMs: 5_000, message });
    await seenOnB(
      (rules) => rules.some((r) => r.id === 'boiler-hot' && 'value' in r && r.value === 90),
      'the new rule on gw-b',
    );

    const changed = await sendJson(`${b.httpUrl}/api/alert-rules/boiler-hot`, 'PUT', hot(80), onB);
    expect(changed.status).toBe(200);
    await waitFor(
      async () =>
        (await rulesOn(a)).some((r) => r.id === 'boiler-hot' && 'value' in r && r.value === 80) ||
        undefined,
      { timeoutMs: 5_000, message: 'the change on gw-a' },
    );

    expect(
      (await sendJson(`${a.httpUrl}/api/alert-rules/boiler-hot`, 'DELETE', undefined, onA)).status,
    ).toBe(204);
    await seenOnB((rules) => !rules.some((r) => r.id === 'boiler-hot'), 'the deletion on gw-b');
    // Both lists are the same, rule for rule.
    expect(await rulesOn(b)).toEqual(await rulesOn(a));
  });

  it('a rule has the same tag on every gateway, and a save on one of a rule deleted on the other is refused 412', async () => {
    const onA = await adminAuth(a.httpUrl);
    const onB = await adminAuth(b.httpUrl);
    const rule = { ...hot(75), id: 'tag-across' };
    const created = await sendJson(`${a.httpUrl}/api/alert-rules`, 'POST', rule, onA);
    expect(created.status).toBe(201);
    const tagOn = async (gateway: PulseHandle) =>
      (await getJson<AlertRulesResponse>(`${gateway.httpUrl}/api/alert-rules`)).body.etags?.[
        'tag-across'
      ];
    const seen = await waitFor(async () => tagOn(b), {
      timeoutMs: 5_000,
      message: 'tag-across on gw-b',
    });
    // The balancer may send the read to one gateway and the write to the other.
    expect(seen).toBe(await tagOn(a));

    expect(
      (await sendJson(`${a.httpUrl}/api/alert-rules/tag-across`, 'DELETE', undefined, onA)).status,
    ).toBe(204);
    await waitFor(async () => ((await tagOn(b)) === undefined ? true : undefined), {
      timeoutMs: 5_000,
      message: 'the deletion on gw-b',
    });
    const toggled = await sendJson(
      `${b.httpUrl}/api/alert-rules/tag-across`,
      'PUT',
      { ...rule, enabled: false },
      { ...onB, 'if-match': seen as string },
    );
    expect(toggled).toMatchObject({ status: 412, body: { error: 'rule_gone' } });
    expect((await rulesOn(b)).some((r) => r.id === 'tag-across')).toBe(false);
  });

  it('a gateway restarted later starts from the changed rules (each gateway kept them)', async () => {
    const onA = await adminAuth(a.httpUrl);
    await sendJson(`${a.httpUrl}/api/alert-rules`, 'POST', { ...hot(70), id: 'kept-hot' }, onA);
    await waitFor(async () => (await rulesOn(b)).some((r) => r.id === 'kept-hot') || undefined, {
      timeoutMs: 5_000,
      message: 'kept-hot on gw-b',
    });
    const stats = (await getJson<IngestStats>(`${b.httpUrl}/api/stats`)).body.alerts;
    expect(stats).toMatchObject({ rulesFromPeers: expect.any(Number) });
    expect(stats.rulesFromPeers).toBeGreaterThanOrEqual(1);
    // gw-b saved what gw-a sent in its own store: restarted on it, it has the rule.
    await b.close();
    b = await startB();
    expect((await rulesOn(b)).some((r) => r.id === 'kept-hot')).toBe(true);
  }, 60_000);
  it('a gateway that was down when a rule changed catches up once it is back (its own store held the old rules)', async () => {
    const onA = await adminAuth(a.httpUrl);
    await b.close();
    const created = await sendJson(
      `${a.httpUrl}/api/alert-rules`,
      'POST',
      { ...hot(60), id: 'while-b-was-down' },
      onA,
    );
    expect(created.status).toBe(201);
    b = await startB();
    await waitFor(
      async () => (await rulesOn(b)).some((r) => r.id === 'while-b-was-down') || undefined,
      { timeoutMs: 10_000, message: 'gw-b caught up' },
    );
    expect(await rulesOn(b)).toEqual(await rulesOn(a));
  }, 60_000);
});
