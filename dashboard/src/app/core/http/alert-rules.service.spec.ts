import { TestBed } from '@angular/core/testing';
import type { AlertRule } from '@pulse/protocol/core';
import { fakeHttp } from '../../testing/fake-http';
import { provideFakeLive, useFakeClock } from '../../testing/testbed';
import { AlertRulesService } from './alert-rules.service';
import { FETCH } from './alerts-api';

const rule = (id: string) =>
  ({
    id,
    kind: 'offline',
    severity: 'major',
    scope: { all: true },
    enabled: true,
    forMs: 0,
  }) as AlertRule;

describe('AlertRulesService', () => {
  useFakeClock();

  it('reads again after a read under way when asked meanwhile: its answer may predate a change', async () => {
    const http = fakeHttp();
    provideFakeLive([{ provide: FETCH, useValue: http.fetch }]);
    const sut = TestBed.inject(AlertRulesService);
    const opened = sut.loadNow();
    // The rules page saved a rule while the first read was on its way: two ask, one more read.
    const afterSave = sut.refresh();
    const afterToggle = sut.refresh();
    expect(http.asked.map((a) => a.url.pathname)).toEqual(['/api/alert-rules']);

    http.asked[0].respond(200, { rules: [rule('a')] });
    await opened;
    await jest.advanceTimersByTimeAsync(0);
    expect(sut.rules().map((r) => r.id)).toEqual(['a']);
    expect(http.asked).toHaveLength(2);

    http.asked[1].respond(200, { rules: [rule('a'), rule('b')] });
    await Promise.all([afterSave, afterToggle]);
    expect(sut.rules().map((r) => r.id)).toEqual(['a', 'b']);
    expect(http.asked).toHaveLength(2);
  });

  it('keeps each rule’s tag as read with it; a gateway before 0072 gives none', async () => {
    const http = fakeHttp();
    provideFakeLive([{ provide: FETCH, useValue: http.fetch }]);
    const sut = TestBed.inject(AlertRulesService);
    const first = sut.loadNow();
    http.asked[0].respond(200, {
      rules: [rule('a'), rule('b'), rule('c')],
      // A tag of a rule not listed, or not a string, is no tag.
      etags: { a: '"t-a"', b: 7, gone: '"t-gone"' },
    });
    await first;
    expect([...sut.etags()]).toEqual([['a', '"t-a"']]);

    const second = sut.refresh();
    http.asked[1].respond(200, { rules: [rule('a')] });
    await second;
    expect(sut.etags().size).toBe(0);
  });

  it('holds the stored rules the gateway refused, as the last read listed them; entries not of their shape are left out', async () => {
    const http = fakeHttp();
    provideFakeLive([{ provide: FETCH, useValue: http.fetch }]);
    const sut = TestBed.inject(AlertRulesService);
    const first = sut.loadNow();
    http.asked[0].respond(200, {
      rules: [rule('a')],
      refused: [
        { id: 'old', issues: ['severity: Invalid option', 3] },
        { id: null, issues: ['id: Invalid input'] },
        { id: 7, issues: [] },
        'nonsense',
      ],
    });
    await first;
    expect(sut.refused()).toEqual([
      { id: 'old', issues: ['severity: Invalid option'] },
      { id: null, issues: ['id: Invalid input'] },
    ]);

    // Replaced (a rule of its id was saved) or a gateway that lists none: none.
    const second = sut.refresh();
    http.asked[1].respond(200, { rules: [rule('a')] });
    await second;
    expect(sut.refused()).toEqual([]);
  });

  it('takes this page’s own write at once, with the tag it was answered with; a read begun before it does not bring the old one back', async () => {
    const http = fakeHttp();
    provideFakeLive([{ provide: FETCH, useValue: http.fetch }]);
    const sut = TestBed.inject(AlertRulesService);
    const first = sut.loadNow();
    http.asked[0].respond(200, { rules: [rule('a'), rule('b')], etags: { a: '"a1"', b: '"b1"' } });
    await first;

    // A read on its way (a reconnect's) when the page's writes are answered.
    const stale = sut.refresh();
    const off = { ...rule('a'), enabled: false };
    sut.wrote('a', { rule: off, etag: '"a2"' });
    sut.wrote('b', null);
    expect(sut.rules()).toEqual([off]);
    expect([...sut.etags()]).toEqual([['a', '"a2"']]);
    http.asked[1].respond(200, { rules: [rule('a'), rule('b')], etags: { a: '"a1"', b: '"b1"' } });
    await stale;
    expect(sut.rules()).toEqual([off]);
    expect([...sut.etags()]).toEqual([['a', '"a2"']]);

    // A read begun after the writes tells what is there now (another admin's change included).
    const fresh = sut.refresh();
    http.asked[2].respond(200, { rules: [rule('a'), rule('c')], etags: { a: '"a3"', c: '"c1"' } });
    await fresh;
    expect(sut.rules().map((r) => r.id)).toEqual(['a', 'c']);
    expect([...sut.etags()]).toEqual([
      ['a', '"a3"'],
      ['c', '"c1"'],
    ]);
  });
});
