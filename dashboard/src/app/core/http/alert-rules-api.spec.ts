import { TestBed } from '@angular/core/testing';
import { AlertRulesApi, RuleConflictError, RuleWriteError } from './alert-rules-api';
import { FETCH } from './alerts-api';

/** The API over a fetch that answers every request with `status` and `body`; `sent` holds them. */
function api(status: number, body: unknown, headers: Record<string, string> = {}) {
  const sent: { url: string; init: RequestInit }[] = [];
  const fetch = jest.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    sent.push({ url: String(input), init });
    return {
      ok: status < 400,
      status,
      headers: new Headers(headers),
      json: async () => body,
    } as unknown as Response;
  });
  TestBed.configureTestingModule({ providers: [{ provide: FETCH, useValue: fetch }] });
  return { sut: TestBed.inject(AlertRulesApi), sent };
}

const RULE = { id: 'hall a/1', kind: 'offline', severity: 'major' };

/** The refusal `write` rejects with. */
async function refusal(write: Promise<unknown>): Promise<RuleWriteError> {
  const error: unknown = await write.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof RuleWriteError)) throw new Error(`not a RuleWriteError: ${error}`);
  return error;
}

describe('AlertRulesApi', () => {
  afterEach(() => TestBed.resetTestingModule());

  it('sends a replacement as the other signed-in writes are, over the version read: PUT, session cookie, JSON body, If-Match', async () => {
    const { sut, sent } = api(200, RULE, { etag: '"tag-2"' });
    // The rule as stored, with the tag the gateway gave it: the next write is made over it.
    await expect(sut.replace('hall a/1', RULE, '"tag-1"')).resolves.toEqual({
      rule: RULE,
      etag: '"tag-2"',
    });
    expect(sent).toEqual([
      {
        url: '/api/alert-rules/hall%20a%2F1',
        init: {
          method: 'PUT',
          credentials: 'same-origin',
          headers: {
            accept: 'application/json',
            'content-type': 'application/json',
            'if-match': '"tag-1"',
          },
          body: JSON.stringify(RULE),
        },
      },
    ]);
    // A gateway that gave no tag: the replacement as before 0072.
    await sut.replace('hall a/1', RULE, null);
    expect(sent[1].init.headers).toEqual({
      accept: 'application/json',
      'content-type': 'application/json',
    });
  });

  it('takes a create refused because the same rule exists as created only when the gateway says so (same: true)', async () => {
    // As stored: the defaults the text left out filled in by the gateway, which judged them.
    const stored = { ...RULE, scope: { all: true }, enabled: true, forMs: 0 };
    const again = api(412, { error: 'rule_exists', rule: stored, etag: '"t1"', same: true });
    await expect(again.sut.create(RULE)).resolves.toEqual({ rule: stored, etag: '"t1"' });
    TestBed.resetTestingModule();
    // Every field of the text is in the stored rule, but a field it left out is not the default
    // (someone's rule, disabled): the gateway says not the same, and it is a conflict.
    const other = api(412, {
      error: 'rule_exists',
      rule: { ...stored, enabled: false },
      etag: '"t2"',
      same: false,
    });
    const error = await refusal(other.sut.create(RULE));
    expect(error).toMatchObject({ reason: 'rule_exists', etag: '"t2"', same: false });
    TestBed.resetTestingModule();
    // A gateway that does not say (older than `same`): a conflict, never a guess.
    const older = api(412, { error: 'rule_exists', rule: stored, etag: '"t1"' });
    await expect(refusal(older.sut.create(RULE))).resolves.toMatchObject({
      reason: 'rule_exists',
    });
  });

  it('creates a rule only if its id is free (PUT, If-None-Match: *); text without a usable id is POSTed for the gateway to refuse', async () => {
    const { sut, sent } = api(200, RULE);
    await sut.create(RULE);
    await sut.create({ ...RULE, id: 7 });
    await sut.create({ ...RULE, id: '..' });
    expect(
      sent.map((s) => [
        s.init.method,
        s.url,
        (s.init.headers as Record<string, string>)['if-none-match'],
      ]),
    ).toEqual([
      ['PUT', '/api/alert-rules/hall%20a%2F1', '*'],
      ['POST', '/api/alert-rules', undefined],
      ['POST', '/api/alert-rules', undefined],
    ]);
  });

  it.each([
    [
      'rule_changed',
      { ...RULE, severity: 'minor' },
      '"tag-2"',
      'Someone else changed the rule "hall a/1" after it was read here, so nothing was changed.',
    ],
    [
      'rule_gone',
      null,
      null,
      'Someone else deleted the rule "hall a/1" after it was read here, so it was not created again.',
    ],
    [
      'rule_exists',
      RULE,
      '"tag-1"',
      'A rule with the id "hall a/1" exists already (someone may have just created it), so yours was not created.',
    ],
  ])('words a 412 %s and carries the rule as it is now', async (reason, rule, etag, words) => {
    const { sut } = api(412, { statusCode: 412, error: reason, message: 'm', rule, etag });
    const error = await refusal(sut.replace('hall a/1', RULE, '"tag-1"'));
    expect(error).toBeInstanceOf(RuleConflictError);
    const conflict = error as RuleConflictError;
    expect([
      conflict.status,
      conflict.reason,
      conflict.current,
      conflict.etag,
      conflict.message,
    ]).toEqual([412, reason, rule, etag, words]);
  });

  it('takes a 412 without the gateway’s body (a proxy’s) as a change made meanwhile, with nothing to show', async () => {
    const { sut } = api(412, null);
    const error = (await refusal(sut.replace('x', RULE, '"t"'))) as RuleConflictError;
    expect([error.reason, error.current, error.etag]).toEqual(['rule_changed', null, null]);
    // Not a deletion: a delete that meets it is refused, not counted done.
    TestBed.resetTestingModule();
    const proxy = api(412, null);
    expect(await refusal(proxy.sut.remove('x', '"t"'))).toBeInstanceOf(RuleConflictError);
  });

  it('deletes over the version read (If-Match); a rule changed meanwhile is a conflict, one deleted meanwhile is done', async () => {
    const changed = api(412, { error: 'rule_changed', rule: { ...RULE, id: 'x' }, etag: '"t2"' });
    const error = await refusal(changed.sut.remove('x', '"t1"'));
    expect(error).toBeInstanceOf(RuleConflictError);
    expect((changed.sent[0].init.headers as Record<string, string>)['if-match']).toBe('"t1"');
    TestBed.resetTestingModule();
    const gone = api(412, { error: 'rule_gone', rule: null, etag: null });
    await expect(gone.sut.remove('x', '"t1"')).resolves.toBeUndefined();
  });

  it('keeps a 400’s issues as the gateway wrote them', async () => {
    const issues = ['high: must be > low (30)', '(root): Unrecognized key: "extra"'];
    const { sut } = api(400, { statusCode: 400, error: 'Bad Request', message: issues });
    const error = await refusal(sut.create(RULE));
    expect(error.status).toBe(400);
    expect(error.message).toBe('The gateway refused the rule:');
    expect(error.issues).toEqual(issues);
  });

  it.each([
    [409, 'A rule with the id "hall a/1" exists already: choose another id, or edit that rule.'],
    [403, 'Only admins change alert rules.'],
    [401, 'Signed out: sign in again to change alert rules.'],
    [503, 'the rules store refused the change'],
  ])('words a %s for the person who saved', async (status, words) => {
    const { sut } = api(status, {
      statusCode: status,
      message: 'the rules store refused the change',
    });
    const error = await refusal(sut.create(RULE));
    expect([error.status, error.message, error.issues]).toEqual([status, words, []]);
  });

  it('takes a rule already deleted elsewhere (404) as deleted', async () => {
    const { sut, sent } = api(404, { statusCode: 404, message: 'no alert rule "x"' });
    await expect(sut.remove('x', null)).resolves.toBeUndefined();
    expect(sent.map((s) => [s.init.method, s.url])).toEqual([['DELETE', '/api/alert-rules/x']]);
  });
});
