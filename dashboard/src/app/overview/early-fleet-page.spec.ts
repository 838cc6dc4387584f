import { TestBed } from '@angular/core/testing';
import { FETCH } from '../core/http/alerts-api';
import { fakeFleetPages } from '../testing/fleet-pages';
import { EARLY_PAGE_FRESH_MS, EarlyFleetPage, FIRST_FLEET_PAGE } from './early-fleet-page';

describe('EarlyFleetPage', () => {
  function setup() {
    const gateway = fakeFleetPages([{ id: 'a-1', name: 'Air', group: 'hall' }], ['t']);
    TestBed.configureTestingModule({ providers: [{ provide: FETCH, useValue: gateway.fetch }] });
    return { gateway, early: TestBed.inject(EarlyFleetPage) };
  }

  it('asks for the first page at start and hands it over once, to the same query', async () => {
    const { gateway, early } = setup();
    early.start();
    expect(gateway.asked).toHaveLength(1);
    expect(Object.fromEntries(gateway.asked[0])).toEqual({
      sort: 'name',
      offset: '0',
      limit: '240',
    });
    const page = await early.take({ ...FIRST_FLEET_PAGE });
    expect(page?.devices.map((d) => d[0])).toEqual(['a-1']);
    expect(early.take({ ...FIRST_FLEET_PAGE })).toBeNull();
  });

  it('hands nothing over for another query, or once it is older than the page would accept', () => {
    const { early } = setup();
    early.start();
    expect(early.take({ ...FIRST_FLEET_PAGE, sort: 'severity' })).toBeNull();
    const now = jest.spyOn(Date, 'now');
    try {
      early.start();
      now.mockReturnValue(Date.now() + EARLY_PAGE_FRESH_MS + 1);
      expect(early.take({ ...FIRST_FLEET_PAGE })).toBeNull();
    } finally {
      now.mockRestore();
    }
  });

  it('hands nothing over when it was not started (the app began on another page)', () => {
    const { early } = setup();
    expect(early.take({ ...FIRST_FLEET_PAGE })).toBeNull();
  });
});
