import {
  ChangeDetectionStrategy,
  Component,
  computed,
  effect,
  inject,
  input,
  signal,
  untracked,
} from '@angular/core';
import { ScrollingModule } from '@angular/cdk/scrolling';
import '../core/render/cdk-viewport-styles';
import type { AlertEvent, AlertSeverity, AlertState } from '@pulse/protocol/core';
import { ALERT_LIMITS } from '@pulse/protocol/core';
import { AlertsApi } from '../core/http/alerts-api';
import { AlertRowComponent } from './alert-row.component';
import { ALERT_ROW_PHONE_PX, ALERT_ROW_PX } from './alert-view';
import { injectMediaQuery, PHONE_MEDIA } from '../core/util/media-query';

/*
 * The alert history tab: lifecycle events from `GET /api/alerts/history`, newest first, in a
 * virtual list, a page at a time; the next page is asked for when the user scrolls near the end.
 * Owns the pages it loaded and the request in flight; filters are the page's inputs. It must not
 * read the live socket (the history is HTTP only).
 */

/** Events per request (the gateway answers at most {@link ALERT_LIMITS.maxQueryLimit}). */
export const HISTORY_PAGE = 500;
/** Ask for the next page when the first row on screen is this close to the last one loaded. */
const LOAD_AHEAD_ROWS = 60;
/**
 * After a failed read, scrolling asks again no sooner than this (ms): a refused read (the
 * gateway's read budget: 429) is not asked again on every scroll event. Reload asks at once.
 */
export const RETRY_AFTER_ERROR_MS = 5_000;

export interface HistoryFilter {
  /**
   * A device's exact id or part of an id or display name, matched by the gateway ('': every
   * device); sent as it is, a refusal shows its error.
   */
  device: string;
  severity: AlertSeverity | '';
  state: AlertState | '';
}

/** The same event seen on two pages (pages overlap at the shared `updatedAt`). */
const eventKey = (e: AlertEvent) => `${e.id}|${e.updatedAt}|${e.state}|${e.count}`;

@Component({
  selector: 'app-alert-history',
  imports: [ScrollingModule, AlertRowComponent],
  template: `
    @if (error(); as error) {
      <p class="alert-error" role="alert">{{ error }}</p>
    }
    <cdk-virtual-scroll-viewport
      scrollWindow
      class="alert-rows"
      role="list"
      aria-label="Alert history"
      data-testid="history"
      [itemSize]="rowPx()"
      (scrolledIndexChange)="scrolled($event)"
    >
      <div
        *cdkVirtualFor="let e of events(); trackBy: trackEvent"
        class="alert-vrow"
        role="listitem"
      >
        <app-alert-row [alert]="e" [actions]="false" />
      </div>
    </cdk-virtual-scroll-viewport>
    <p class="alert-empty muted" data-testid="history-status">
      @if (loading()) {
        Loading…
      } @else if (!events().length) {
        <!-- After a failed read the error above says why: "no events match" would be wrong. -->
        @if (!error()) {
          No events match the filters.
        }
      } @else if (ended() === 'end') {
        {{ events().length }} {{ events().length === 1 ? 'event' : 'events' }}: the whole history
        the gateway keeps.
      } @else if (ended() === 'stuck') {
        {{ events().length }} {{ events().length === 1 ? 'event' : 'events' }}; no older page can be
        asked for.
      } @else {
        {{ events().length }} events so far; scroll for more.
      }
      @if (!loading() && dropped()) {
        {{ dropped() }} unreadable {{ dropped() === 1 ? 'event' : 'events' }} left out (the browser
        console says why).
      }
    </p>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class AlertHistoryComponent {
  readonly filter = input.required<HistoryFilter>();
  /** Bumped by the page's Reload button. */
  readonly reloads = input(0);

  private readonly api = inject(AlertsApi);
  private readonly phone = injectMediaQuery(PHONE_MEDIA);
  /** The virtual list's one row height: the stylesheet's for this viewport. */
  protected readonly rowPx = computed(() => (this.phone() ? ALERT_ROW_PHONE_PX : ALERT_ROW_PX));
  protected readonly events = signal<readonly AlertEvent[]>([]);
  protected readonly loading = signal(false);
  protected readonly error = signal<string | null>(null);
  /**
   * Why no older page is asked for: the last one came back short (`end`: the gateway has no
   * more), or asking on would get the same page again (`stuck`); null while there is more.
   */
  protected readonly ended = signal<'end' | 'stuck' | null>(null);
  /** Events the gateway sent that the check refused (malformed), over the pages loaded. */
  protected readonly dropped = signal(0);
  /** The devices of the events loaded, in first-seen order (the page names them). */
  readonly deviceIds = computed(() => [...new Set(this.events().map((e) => e.deviceId))]);
  private readonly seen = new Set<string>();
  /**
   * The next page's `to`: the oldest time the gateway sent, not the oldest event kept (a page
   * of malformed events moves it on as well).
   */
  private next: number | undefined;
  /** The first row on screen, as last scrolled to: a load may leave the list short of it. */
  private firstVisible = 0;
  private request = 0;
  /** Scrolling does not load before this time (after a failed read). */
  private quietUntil = 0;
  protected readonly trackEvent = (_: number, e: AlertEvent) => eventKey(e);

  constructor() {
    effect(() => {
      this.filter();
      this.reloads();
      untracked(() => void this.load(true));
    });
  }

  protected scrolled(firstVisible: number): void {
    this.firstVisible = firstVisible;
    if (this.loading() || this.ended() || Date.now() < this.quietUntil) return;
    if (firstVisible + LOAD_AHEAD_ROWS >= this.events().length) void this.load(false);
  }

  private async load(fresh: boolean): Promise<void> {
    const request = ++this.request;
    const loaded = fresh ? [] : this.events();
    const to = fresh ? undefined : this.next;
    const limit = Math.min(HISTORY_PAGE, ALERT_LIMITS.maxQueryLimit);
    this.loading.set(true);
    let read = false;
    try {
      const page = await this.api.history({ ...this.filter(), limit, to });
      if (request !== this.request) return;
      if (fresh) this.seen.clear();
      const added = page.events.filter((e) => {
        const key = eventKey(e);
        if (this.seen.has(key)) return false;
        this.seen.add(key);
        return true;
      });
      // The gateway's `to` decides, not what was kept; a full page that neither moved it nor
      // added a row (all at one time) would come back the same forever: stop there.
      const stuck = page.oldest === null || (page.oldest === to && added.length === 0);
      this.ended.set(page.sent < limit ? 'end' : stuck ? 'stuck' : null);
      this.next = page.oldest ?? to;
      this.dropped.set((fresh ? 0 : this.dropped()) + page.sent - page.events.length);
      this.events.set(fresh ? added : [...loaded, ...added]);
      this.error.set(null);
      read = true;
    } catch (error) {
      if (request !== this.request) return;
      this.quietUntil = Date.now() + RETRY_AFTER_ERROR_MS;
      // A refused first page (new filters, Reload) leaves no rows of the filters before it.
      if (fresh) {
        this.seen.clear();
        this.events.set([]);
        this.ended.set(null);
        this.dropped.set(0);
        this.next = undefined;
      }
      this.error.set(
        `Could not load the history: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      if (request === this.request) this.loading.set(false);
    }
    // A page that kept few rows (or none) may leave the list short of the screen, where no
    // scroll comes to ask for the next one: ask as a scroll to the same row would.
    if (read) this.scrolled(this.firstVisible);
  }
}
