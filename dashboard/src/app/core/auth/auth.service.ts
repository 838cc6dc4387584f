import { DOCUMENT } from '@angular/common';
import { DestroyRef, Injectable, computed, inject, signal } from '@angular/core';
import { Backoff, roleAtLeast } from '@pulse/protocol/core';
import { FETCH } from '../http/alerts-api';
import { rememberViewing } from '../live/early-start';
import { RANDOM } from '../live/live-socket';
import { LiveService } from '../live/live.service';
import { pageStorage } from '../util/page-storage';
import {
  AnonymousRole,
  AuthRequestError,
  AuthState,
  AuthUser,
  Role,
  authRequest,
  parseAuthState,
  parseUser,
} from './auth-api';

/*
 * Who is using this browser, as the server says (`/api/auth/me`): the signed-in user, what an
 * anonymous visitor may do, whether the first admin account still has to be created; and the
 * sign-in, sign-out and first-run actions. It owns that state and re-establishing the live
 * connection when the identity changes (the gateway reads the cookie at the handshake only).
 * It must not route (guards and pages do) nor decide anything the server does not enforce:
 * these signals only shape the UI, every write is checked again by the server.
 */

/** Before the first answer: nobody signed in, nothing granted. */
const UNKNOWN: AuthState = { user: null, anonymousRole: 'none', setupRequired: false };
/** A server without auth, or one not reached yet: watch anonymously. */
const OPEN: AuthState = { user: null, anonymousRole: 'viewer', setupRequired: false };
/**
 * A refresh that failed (the gateway unreachable, or not answering properly) is asked again
 * after 5 s, then twice as long each time up to 30 s, ±20 %, until it answers; an answer starts
 * over at 5 s. The jitter: every screen that opened during one outage (a power cut, a gateway
 * restart) would otherwise ask at the same moments and reach the returning gateway together.
 * The 30 s cap: a long outage costs each screen two requests a minute, and the page learns who
 * is signed in within 30 s of the gateway's return; its live connection (back within 10 s,
 * DEFAULT_BACKOFF) shows data before that, with the session cookie the gateway reads.
 */
export const REFRESH_RETRY_MS = 5_000;
export const REFRESH_RETRY_MAX_MS = 30_000;

@Injectable({ providedIn: 'root' })
export class AuthService {
  private readonly fetch = inject(FETCH);
  private readonly live = inject(LiveService);
  /** Jitter of a busy sign-in's retries (auth-api.ts) and of the refresh's. */
  private readonly random = inject(RANDOM);
  private readonly storage = pageStorage(inject(DOCUMENT).defaultView);
  private readonly retries = new Backoff(REFRESH_RETRY_MS, REFRESH_RETRY_MAX_MS, this.random);
  private retryTimer: ReturnType<typeof setTimeout> | null = null;

  private readonly _state = signal<AuthState>(UNKNOWN);
  private readonly _loaded = signal(false);
  private readonly _error = signal<string | null>(null);
  private readonly _provisional = signal(false);
  /**
   * True while the page runs on the fallback (anonymous viewer) because the first `/api/auth/me`
   * found no gateway: the guards let the page in on a guess, and run again once the gateway
   * answers (auth/auth-recheck.ts).
   */
  readonly provisional = this._provisional.asReadonly();
  /** Whether the server answered `/api/auth/me` at least once (or cannot have auth at all). */
  readonly loaded = this._loaded.asReadonly();
  /** Why the last refresh failed, null when it did not. */
  readonly error = this._error.asReadonly();
  readonly user = computed<AuthUser | null>(() => this._state().user);
  /** The paired wall screen this browser is (its display token), or null. */
  readonly screen = computed(() => this._state().screen ?? null);
  /**
   * The role in effect: the user's, a screen's (viewer), else the anonymous one (null when
   * anonymous get nothing).
   */
  readonly role = computed<Role | null>(() => {
    const { user, anonymousRole, screen } = this._state();
    if (user) return user.role;
    return screen || anonymousRole === 'viewer' ? 'viewer' : null;
  });
  readonly anonymousRole = computed<AnonymousRole>(() => this._state().anonymousRole);
  readonly setupRequired = computed(() => this._state().setupRequired);
  /** May watch the live fleet (signed in, or anonymous viewing allowed). */
  readonly canView = computed(() => this.role() !== null);
  readonly canAcknowledge = computed(() => !this._enabled() || this.roleAtLeast('operator'));
  readonly isAdmin = computed(() => this.roleAtLeast('admin'));
  private readonly _enabled = signal(true);
  /**
   * False when the server has no `/api/auth` at all (404: a gateway older than sign-in);
   * then everybody may do what that server allows, as before.
   */
  readonly enabled = this._enabled.asReadonly();

  private first: Promise<void> | null = null;
  /** Refreshes started so far: the newest one's answer is the one applied. */
  private asked = 0;

  constructor() {
    inject(DestroyRef).onDestroy(() => this.cancelRetry());
  }

  /** The first `/api/auth/me` answer (started on first call); guards wait on it. */
  ready(): Promise<void> {
    this.first ??= this.refresh();
    return this.first;
  }

  /**
   * Ask the server again who we are. Never throws: a failure keeps the last state and is asked
   * again later (REFRESH_RETRY_MS, backing off) until the server answers.
   */
  async refresh(): Promise<void> {
    // Only the newest question's answer counts: an older one (a retry sent before a sign-in,
    // answered after it) says who we were, not who we are.
    const asked = ++this.asked;
    try {
      const answer = await authRequest(this.fetch, 'GET', '/api/auth/me');
      if (asked !== this.asked) return;
      this.apply(parseAuthState(answer));
      this._provisional.set(false);
      this._error.set(null);
      this.retries.reset();
      this.cancelRetry();
      // The next load may open its live connection while it boots (core/live/early-start.ts).
      rememberViewing(this.storage, this.canView() && !this.setupRequired());
    } catch (error) {
      if (asked !== this.asked) return;
      this._error.set(error instanceof Error ? error.message : String(error));
      if (error instanceof AuthRequestError && error.status === 404) {
        this._enabled.set(false);
        this.apply(OPEN);
        this.cancelRetry();
      } else {
        // Unreachable on start: watch as an anonymous viewer (the gateway refuses the socket
        // if that is not allowed) meanwhile.
        if (!this._loaded()) {
          this.apply(OPEN);
          this._provisional.set(true);
        }
        this.retryLater();
      }
    } finally {
      this._loaded.set(true);
    }
  }

  /**
   * Sign in; throws an {@link AuthRequestError} with a readable message when refused. `signal`
   * aborted (the page that asked is gone) stops the busy retries still to come; a sign-in already
   * sent that succeeds still signs in.
   */
  async login(username: string, password: string, signal?: AbortSignal): Promise<AuthUser> {
    const body = await authRequest(
      this.fetch,
      'POST',
      '/api/auth/login',
      { username, password },
      { random: this.random, signal },
    );
    return this.signedIn(body);
  }

  /** Create the first admin account (signs it in); throws an {@link AuthRequestError} when refused. */
  async setup(username: string, password: string, setupCode?: string): Promise<AuthUser> {
    const body = await authRequest(this.fetch, 'POST', '/api/auth/setup', {
      username,
      password,
      ...(setupCode ? { setupCode } : {}),
    });
    return this.signedIn(body);
  }

  async logout(): Promise<void> {
    try {
      await authRequest(this.fetch, 'POST', '/api/auth/logout');
    } finally {
      const before = this.user();
      await this.refresh();
      if (before?.username !== this.user()?.username) this.live.reconnect();
    }
  }

  private async signedIn(body: unknown): Promise<AuthUser> {
    const user = parseUser((body as { user?: unknown } | null)?.user);
    if (!user) throw new AuthRequestError(0, 'malformed answer from the server');
    this._state.update((s) => ({ ...s, user, setupRequired: false }));
    this.cancelRetry(); // the refresh below asks anew
    await this.refresh();
    this.live.reconnect();
    return user;
  }

  private roleAtLeast(needed: Role): boolean {
    const role = this.role();
    return role !== null && roleAtLeast(role, needed);
  }

  /** One retry pending at most: refreshes that fail together ask again once. */
  private retryLater(): void {
    if (this.retryTimer !== null) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.refresh();
    }, this.retries.next());
  }

  private cancelRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private apply(state: AuthState): void {
    if (state !== OPEN) this._enabled.set(true);
    this._state.set(state);
  }
}
