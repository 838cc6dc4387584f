import type {
  AlertRule,
  AlertRulesResponse,
  IngestStats,
  RuleConflictResponse,
} from '@pulse/protocol';
import { adminAuth, usePulse } from './support/pulse';

/** A rule write or read with its status, `ETag` header and parsed body (null for a 204). */
interface Answer<T> {
  status: number;
  etag: string | null;
  body: T;
}

const RULE = {
  id: 'boiler-hot',
  kind: 'threshold',
  metric: 'temperature',
  op: 'above',
  value: 90,
  severity: 'major',
} as const;

// Real: the whole backend (HTTP, alert engine, its SQLite store). Two admins edit the same rule
// from pages read at different times: the second one's save must not undo the first one's
// change, nor bring back a rule the first one deleted (docs/decisions/0072).
describe('alert rule writes with If-Match / If-None-Match', () => {
  const backend = usePulse();
  const { api } = backend;
  let auth: { authorization: string };
  beforeAll(async () => {
    auth = await adminAuth(backend.pulse.httpUrl);
  });

  async function call<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer<T>> {
    const response = await fetch(api(path), {
      method,
      headers: {
        ...auth,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      etag: response.headers.get('etag'),
      body: (text ? JSON.parse(text) : null) as T,
    };
  }
  const read = (id: string) => call<AlertRule>('GET', `/alert-rules/${id}`);
  /** A fresh rule under `id`, and the tag the gateway gave it. */
  async function created(id: string): Promise<string> {
    const answer = await call('POST', '/alert-rules', { ...RULE, id });
    expect(answer.status).toBe(201);
    return (await read(id)).etag ?? '"no-etag"';
  }

  it('refuses a save made from a stale read (412) and keeps the other admin’s change', async () => {
    const seen = await created('stale-save');
    // Admin 1 raises the level; admin 2's page still shows the rule as it was.
    const first = await call('PUT', '/alert-rules/stale-save', {
      ...RULE,
      id: 'stale-save',
      value: 95,
    });
    expect(first.status).toBe(200);

    const second = await call(
      'PUT',
      '/alert-rules/stale-save',
      { ...RULE, id: 'stale-save', value: 90, enabled: false },
      { 'if-match': seen },
    );
    expect(second.status).toBe(412);
    expect((await read('stale-save')).body).toMatchObject({ value: 95, enabled: true });
  });

  it('refuses a save of a rule deleted meanwhile (412) and does not create it again', async () => {
    const seen = await created('deleted-meanwhile');
    expect((await call('DELETE', '/alert-rules/deleted-meanwhile')).status).toBe(204);

    const toggle = await call(
      'PUT',
      '/alert-rules/deleted-meanwhile',
      { ...RULE, id: 'deleted-meanwhile', enabled: false },
      { 'if-match': seen },
    );
    expect(toggle.status).toBe(412);
    expect((await read('deleted-meanwhile')).status).toBe(404);
  });

  it('refuses a create-only PUT (If-None-Match: *) of an id in use (412)', async () => {
    await created('taken');
    const again = await call(
      'PUT',
      '/alert-rules/taken',
      { ...RULE, id: 'taken', value: 1 },
      { 'if-none-match': '*' },
    );
    expect(again.status).toBe(412);
    expect(again.body).toMatchObject({ error: 'rule_exists', same: false });
    expect((await read('taken')).body).toMatchObject({ value: 90 });
  });

  it('says a create-only PUT sent twice is the rule stored (412 rule_exists, same: true), defaults left out or not', async () => {
    const create = () =>
      call<RuleConflictResponse>(
        'PUT',
        '/alert-rules/twice',
        { ...RULE, id: 'twice' },
        {
          'if-none-match': '*',
        },
      );
    expect((await create()).status).toBe(200);
    const again = await create();
    expect(again).toMatchObject({ status: 412, body: { error: 'rule_exists', same: true } });
    // A field the text left out is a default; one set otherwise is another rule.
    const other = await call<RuleConflictResponse>(
      'PUT',
      '/alert-rules/twice',
      { ...RULE, id: 'twice', enabled: false },
      { 'if-none-match': '*' },
    );
    expect(other.body).toMatchObject({ error: 'rule_exists', same: false });
  });

  it('tags each rule the same in GET, the list, POST and PUT; a save on the current tag goes through', async () => {
    const post = await call<AlertRule>('POST', '/alert-rules', { ...RULE, id: 'tagged' });
    expect(post.etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    const got = await read('tagged');
    expect(got.etag).toBe(post.etag);
    const list = await call<AlertRulesResponse>('GET', '/alert-rules');
    expect(list.body.etags?.['tagged']).toBe(post.etag);
    expect(Object.keys(list.body.etags ?? {})).toEqual(list.body.rules.map((r) => r.id));
    // The tag is the rule's content: a request that spells the defaults out is the same rule.
    const same = await call('PUT', '/alert-rules/tagged', got.body, {
      'if-match': post.etag as string,
    });
    expect(same).toMatchObject({ status: 200, etag: post.etag });

    const saved = await call<AlertRule>(
      'PUT',
      '/alert-rules/tagged',
      { ...got.body, value: 70 },
      { 'if-match': `"other", ${post.etag}` },
    );
    expect(saved).toMatchObject({ status: 200, body: { value: 70 } });
    expect(saved.etag).not.toBe(post.etag);
    expect((await read('tagged')).etag).toBe(saved.etag);
    // A cache's revalidation of the one rule: 304 while it is unchanged. (fetch adds
    // `Cache-Control: no-cache` to a conditional request unless it names one, and that asks for
    // the full answer.)
    const unchanged = await fetch(api('/alert-rules/tagged'), {
      headers: { 'if-none-match': saved.etag as string, 'cache-control': 'max-age=0' },
    });
    expect(unchanged.status).toBe(304);
  });

  it('answers a 412 with the rule as it is now and its tag, and counts it', async () => {
    const before = (await call<IngestStats>('GET', '/stats')).body.alerts.ruleConflicts;
    const seen = await created('conflict-body');
    const now = await call('PUT', '/alert-rules/conflict-body', {
      ...RULE,
      id: 'conflict-body',
      value: 50,
    });

    const stale = await call<RuleConflictResponse>(
      'PUT',
      '/alert-rules/conflict-body',
      { ...RULE, id: 'conflict-body', value: 60 },
      { 'if-match': seen },
    );
    expect(stale).toMatchObject({
      status: 412,
      body: {
        statusCode: 412,
        error: 'rule_changed',
        message: expect.stringContaining('alert rule "conflict-body" changed after it was read'),
        etag: now.etag,
        rule: { id: 'conflict-body', value: 50 },
      },
    });
    expect((await call('DELETE', '/alert-rules/conflict-body')).status).toBe(204);
    const gone = await call<RuleConflictResponse>(
      'PUT',
      '/alert-rules/conflict-body',
      { ...RULE, id: 'conflict-body' },
      { 'if-match': now.etag as string },
    );
    expect(gone.body).toMatchObject({ error: 'rule_gone', rule: null, etag: null });
    const taken = await created('conflict-exists');
    const exists = await call<RuleConflictResponse>(
      'PUT',
      '/alert-rules/conflict-exists',
      { ...RULE, id: 'conflict-exists' },
      { 'if-none-match': '*' },
    );
    expect(exists.body).toMatchObject({ error: 'rule_exists', etag: taken });

    expect((await call<IngestStats>('GET', '/stats')).body.alerts.ruleConflicts).toBe(before + 3);
    const metrics = await (await fetch(api('/metrics'), { headers: auth })).text();
    expect(metrics).toMatch(
      new RegExp(`^pulse_alert_rule_conflicts_total\\{[^}]*\\} ${before + 3}$`, 'm'),
    );
  });

  it('creates with If-None-Match: * when the id is free, and takes a change already made as done', async () => {
    const fresh = await call<AlertRule>(
      'PUT',
      '/alert-rules/create-only',
      { ...RULE, id: 'create-only' },
      { 'if-none-match': '*' },
    );
    expect(fresh).toMatchObject({ status: 200, body: { id: 'create-only' } });
    // Two admins turn the same rule off from the same read: the second finds it done, not a conflict.
    const off = { ...RULE, id: 'create-only', enabled: false };
    const first = await call('PUT', '/alert-rules/create-only', off, {
      'if-match': fresh.etag as string,
    });
    const second = await call('PUT', '/alert-rules/create-only', off, {
      'if-match': fresh.etag as string,
    });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.etag).toBe(first.etag);
  });

  it('deletes with If-Match only the rule as it was read', async () => {
    const seen = await created('delete-checked');
    const changed = await call('PUT', '/alert-rules/delete-checked', {
      ...RULE,
      id: 'delete-checked',
      value: 10,
    });
    expect(
      (await call('DELETE', '/alert-rules/delete-checked', undefined, { 'if-match': seen })).status,
    ).toBe(412);
    expect((await read('delete-checked')).status).toBe(200);
    const deleted = await call('DELETE', '/alert-rules/delete-checked', undefined, {
      'if-match': changed.etag as string,
    });
    expect(deleted.status).toBe(204);
    // Deleted meanwhile: 404 as without If-Match (RFC 9110 §13.2.1: a request that would fail
    // without its preconditions fails so with them), not a 412.
    const again = await call('DELETE', '/alert-rules/delete-checked', undefined, {
      'if-match': changed.etag as string,
    });
    expect(again.status).toBe(404);
  });

  it('refuses a malformed If-Match or If-None-Match with 400 naming the header; a weak tag never matches', async () => {
    const seen = await created('bad-headers');
    const bare = await call<{ message: string[] }>(
      'PUT',
      '/alert-rules/bad-headers',
      { ...RULE, id: 'bad-headers' },
      { 'if-match': seen.slice(1, -1), 'if-none-match': '' },
    );
    expect(bare).toMatchObject({
      status: 400,
      body: {
        message: [
          `If-Match: must be * or a list of quoted entity tags ("abc", W/"abc"), got ${JSON.stringify(seen.slice(1, -1))}`,
          'If-None-Match: must be * or a list of quoted entity tags ("abc", W/"abc"), got ""',
        ],
      },
    });
    expect(
      (await call('DELETE', '/alert-rules/bad-headers', undefined, { 'if-match': '"a" "b"' }))
        .status,
    ).toBe(400);
    // If-Match compares strongly (RFC 9110 §13.1.1): the same tag marked weak is not a match.
    const weak = await call(
      'PUT',
      '/alert-rules/bad-headers',
      { ...RULE, id: 'bad-headers', value: 1 },
      { 'if-match': `W/${seen}` },
    );
    expect(weak.status).toBe(412);
    expect((await read('bad-headers')).body).toMatchObject({ value: 90 });
  });
});
