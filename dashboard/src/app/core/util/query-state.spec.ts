import { ChangeDetectionStrategy, Component, signal } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { Router, provideRouter } from '@angular/router';
import { RouterTestingHarness } from '@angular/router/testing';
import { keepInQueryParams } from './query-state';

/** A page whose one state, a word, is kept in `?word=` (default `none`). */
@Component({
  selector: 'app-word-page',
  template: '{{ word() }}',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
class WordPage {
  readonly word = signal('none');
  /** The states the URL made the page show. */
  readonly applied: string[] = [];
  readonly opened = keepInQueryParams<string>({
    parse: (params) => params.get('word') ?? 'none',
    write: (word) => ({ word: word === 'none' ? null : word }),
    read: () => this.word(),
    apply: (word) => {
      this.applied.push(word);
      this.word.set(word);
    },
  });
}

describe('keepInQueryParams (a page’s state in its URL)', () => {
  async function open(url: string) {
    TestBed.configureTestingModule({
      providers: [provideRouter([{ path: 'p', component: WordPage }])],
    });
    const harness = await RouterTestingHarness.create(url);
    const page = harness.routeDebugElement?.componentInstance as WordPage;
    return { harness, page, router: TestBed.inject(Router) };
  }

  it('opens on the state of the URL, and writes nothing while it is unchanged', async () => {
    const { harness, page, router } = await open('/p?word=hello&other=1');
    const navigate = jest.spyOn(router, 'navigate');
    await harness.fixture.whenStable();
    expect(page.opened).toBe('hello');
    expect(page.applied).toEqual(['hello']);
    expect(navigate).not.toHaveBeenCalled();
  });

  it('replaces the URL as the state changes, keeping the other parameters, and does not read its own writes back', async () => {
    const { harness, page, router } = await open('/p?other=1');
    const navigate = jest.spyOn(router, 'navigate');
    page.word.set('a');
    harness.fixture.detectChanges(); // the write goes out
    expect(navigate.mock.calls[0][1]).toMatchObject({ replaceUrl: true });
    // A letter typed while the write is on its way is not undone when it lands.
    page.word.set('ab');
    await navigate.mock.results[0].value;
    expect(router.url).toBe('/p?other=1&word=a');
    expect(page.word()).toBe('ab');
    await harness.fixture.whenStable();
    expect(page.applied).toEqual(['none']);
    expect(router.url).toBe('/p?other=1&word=ab');
    page.word.set('none');
    await harness.fixture.whenStable();
    expect(router.url).toBe('/p?other=1');
  });

  it('follows a navigation from elsewhere (a link, back and forward)', async () => {
    const { harness, page, router } = await open('/p?word=a');
    await router.navigateByUrl('/p?word=b');
    await harness.fixture.whenStable();
    expect(page.word()).toBe('b');
    await router.navigateByUrl('/p');
    await harness.fixture.whenStable();
    expect(page.word()).toBe('none');
    expect(page.applied).toEqual(['a', 'b', 'none']);
  });
});
