import { TestBed } from '@angular/core/testing';
import { AlertRulesApi, RuleWriteError } from './alert-rules-api';
import { FETCH } from './alerts-api';

/** The API over a fetch that answers every request with `status` and `body`; `sent` holds them. */
function api(status: number, body: unknown) {
  const sent: { url: string; init: RequestInit }[] = [];
  const fetch = jest.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    sent.push({ url: String(input), init });
    return {
      ok: status < 400,
      status,
      headers: { get: () => null },
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

  it('sends a replacement as the other signed-in writes are: PUT, session cookie, JSON body', async () => {
    const { sut, sent } = api(200, RULE);
    await expect(sut.replace('hall a/1', RULE)).resolves.toEqual(RULE);
    expect(sent).toEqual([
      {
        url: '/api/alert-rules/hall%20a%2F1',
        init: {
          method: 'PUT',
          credentials: 'same-origin',
          headers: { accept: 'application/json', 'content-type': 'application/json' },
          body: JSON.stringify(RULE),
        },
      },
    ]);
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
    await expect(sut.remove('x')).resolves.toBeUndefined();
    expect(sent.map((s) => [s.init.method, s.url])).toEqual([['DELETE', '/api/alert-rules/x']]);
  });
});
