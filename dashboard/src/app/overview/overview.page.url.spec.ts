import { TestBed } from '@angular/core/testing';
import { Router, provideRouter, withComponentInputBinding } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { By } from '@angular/platform-browser';
import { CdkVirtualScrollViewport } from '@angular/cdk/scrolling';
import { LIVE_SOCKET_FACTORY } from '../core/live/live-socket';
import { fakeSocketFactory } from '../testing/fake-live-socket';
import { SummaryDevice } from '../testing/fleet-summary';
import { fakeFleetPages } from '../testing/fleet-pages';
import { FETCH } from '../core/http/alerts-api';
import { OverviewPage } from './overview.page';
import { SEARCH_MAX_CHARS } from './overview-params';

const device = (id: string, name: string, group: string, temperature: number): SummaryDevice => ({
  id,
  name,
  group,
  values: { temperature },
});

/** Let promises and zero-delay timers run. */
const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

describe('OverviewPage URL (search, group, sort and grouping in the query parameters)', () => {
  // jsdom has no layout: give the window (the scroller the overview uses) a screen's height.
  beforeAll(() =>
    Object.defineProperty(document.documentElement, 'clientHeight', {
      configurable: true,
      value: 900,
    }),
  );
  afterAll(() => delete (document.documentElement as { clientHeight?: number }).clientHeight);

  /** The overview opened at `url`, as the router shows it. */
  async function open(url: string) {
    const sockets = fakeSocketFactory();
    const gateway = fakeFleetPages(
      [
        device('b-1', 'Boiler', 'hall-a', 71.5),
        device('p-1', 'Pump', 'hall-b', 20),
        device('f-1', 'Fan', 'hall-a', 30),
      ],
      ['temperature'],
    );
    TestBed.configureTestingModule({
      providers: [
        provideRouter([{ path: '', component: OverviewPage }], withComponentInputBinding()),
        { provide: LIVE_SOCKET_FACTORY, useValue: sockets.factory },
        { provide: FETCH, useValue: gateway.fetch },
      ],
    });
    const harness = await RouterTestingHarness.create(url);
    const router = TestBed.inject(Router);
    const el = harness.routeNativeElement as HTMLElement;
    const settle = async () => {
      await harness.fixture.whenStable();
      await tick();
      harness.fixture.debugElement
        .queryAll(By.directive(CdkVirtualScrollViewport))
        .forEach((v) => (v.componentInstance as CdkVirtualScrollViewport).checkViewportSize());
      await harness.fixture.whenStable();
      await tick();
      await harness.fixture.whenStable();
    };
    await settle();
    const search = el.querySelector('[data-testid=fleet-search]') as HTMLInputElement;
    const group = el.querySelector('select[aria-label=Group]') as HTMLSelectElement;
    const sort = el.querySelector('[data-testid=fleet-sort]') as HTMLSelectElement;
    const grouped = el.querySelector('input[type=checkbox]') as HTMLInputElement;
    const controls = () => ({
      q: search.value,
      group: group.value,
      sort: sort.value,
      grouped: grouped.checked,
    });
    const tiles = () =>
      [...el.querySelectorAll('.tile')].map((t) => t.getAttribute('data-device-id'));
    /** The URL's query parameters. */
    const query = () => Object.fromEntries(new URL(router.url, 'http://pulse.test').searchParams);
    return { el, router, gateway, settle, search, group, sort, grouped, controls, tiles, query };
  }

  it('puts the search, group, sort and grouping into the URL, defaults left out, replacing the entry', async () => {
    const page = await open('/?transport=polling');
    const entries = window.history.length;
    page.search.value = 'a';
    page.search.dispatchEvent(new Event('input'));
    page.group.value = 'hall-a';
    page.group.dispatchEvent(new Event('change'));
    page.sort.value = 'metric:temperature';
    page.sort.dispatchEvent(new Event('change'));
    page.grouped.checked = true;
    page.grouped.dispatchEvent(new Event('change'));
    await page.settle();
    expect(page.query()).toEqual({
      transport: 'polling',
      q: 'a',
      group: 'hall-a',
      sort: 'metric:temperature',
      grouped: 'true',
    });
    expect(page.tiles()).toEqual(['b-1', 'f-1']);

    // Back to the defaults: the URL is as short as it was.
    page.search.value = '';
    page.search.dispatchEvent(new Event('input'));
    page.group.value = '';
    page.group.dispatchEvent(new Event('change'));
    page.sort.value = 'name';
    page.sort.dispatchEvent(new Event('change'));
    page.grouped.checked = false;
    page.grouped.dispatchEvent(new Event('change'));
    await page.settle();
    expect(page.router.url).toBe('/?transport=polling');
    // Typing does not fill the browser's history.
    expect(window.history.length).toBe(entries);
  });

  it('opens on the search, group, sort and grouping of its URL (a reload, a bookmark, a shared link)', async () => {
    const page = await open('/?q=a&group=hall-a&sort=severity&grouped=true');
    // The first page asked is the URL's, not the default list first.
    expect(Object.fromEntries(page.gateway.asked[0])).toMatchObject({
      q: 'a',
      group: 'hall-a',
      sort: 'severity',
      grouped: 'true',
    });
    expect(page.controls()).toEqual({ q: 'a', group: 'hall-a', sort: 'severity', grouped: true });
    expect(page.tiles()).toEqual(['b-1', 'f-1']);
    expect(page.router.url).toBe('/?q=a&group=hall-a&sort=severity&grouped=true');
  });

  it('shows a group and a metric sort of its URL that the fleet does not have', async () => {
    const page = await open('/?group=hall-z&sort=metric:humidity');
    expect(page.controls()).toMatchObject({ group: 'hall-z', sort: 'metric:humidity' });
    expect(page.el.textContent).toContain('No device matches the filter.');
  });

  it('opens on the default list where its URL holds values it cannot take, and leaves the URL be', async () => {
    const long = 'x'.repeat(SEARCH_MAX_CHARS + 1);
    const url = `/?sort=loudest&grouped=yes&q=${long}`;
    const page = await open(url);
    expect(Object.fromEntries(page.gateway.asked[0])).toEqual({
      sort: 'name',
      offset: '0',
      limit: '240',
    });
    expect(page.controls()).toEqual({ q: '', group: '', sort: 'name', grouped: false });
    expect(page.tiles()).toEqual(['b-1', 'f-1', 'p-1']);
    expect(page.router.url).toBe(url);
  });

  it('follows a link to the overview with other parameters (the Fleet link: the default list)', async () => {
    const page = await open('/?q=pu&sort=severity');
    expect(page.tiles()).toEqual(['p-1']);
    await page.router.navigateByUrl('/?sort=last-seen');
    await page.settle();
    expect(page.controls()).toEqual({ q: '', group: '', sort: 'last-seen', grouped: false });
    await page.router.navigateByUrl('/');
    await page.settle();
    expect(page.controls()).toEqual({ q: '', group: '', sort: 'name', grouped: false });
    expect(page.tiles()).toEqual(['b-1', 'f-1', 'p-1']);
    expect(page.router.url).toBe('/');
  });
});
