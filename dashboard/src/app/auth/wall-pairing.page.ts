import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  afterNextRender,
  inject,
  signal,
} from '@angular/core';
import { AuthRequestError } from '../core/auth/auth-api';
import { AuthService } from '../core/auth/auth.service';
import { DisplayTokenStore, PAGE_RELOAD } from '../core/auth/display-token';
import { ScreensApi } from '../core/auth/screens-api';

/*
 * What `/wall` shows when this browser may not watch (anonymous viewing off, nobody signed in,
 * not paired): a pairing code in large type, never a sign-in form. It asks the gateway for a
 * code, polls until an admin enters it on the Screens page, stores the display token and
 * reloads into the wall; an expired code is replaced by a new one. Owns this loop; the token is
 * DisplayTokenStore's and the calls are ScreensApi's.
 */

const RETRY_MS = 5_000;

@Component({
  selector: 'app-wall-pairing-page',
  template: `
    <section class="wall-locked" data-testid="wall-locked" role="status">
      <h1>This screen needs to be paired or signed in</h1>
      @if (auth.setupRequired()) {
        <p>Pulse has no admin account yet: create it from a desktop browser first.</p>
      } @else {
        @if (code(); as code) {
          <p>An admin enters this code on the Screens page of Pulse:</p>
          <p class="pairing-code" data-testid="pairing-code" aria-live="polite">{{ code }}</p>
        } @else {
          <p>Asking Pulse for a pairing code…</p>
        }
        @if (problem(); as problem) {
          <p class="pairing-problem">{{ problem }}</p>
        }
        <p class="pairing-hint">Or sign in to Pulse in this browser, then reload this page.</p>
      }
    </section>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class WallPairingPage {
  protected readonly auth = inject(AuthService);
  private readonly api = inject(ScreensApi);
  private readonly token = inject(DisplayTokenStore);
  private readonly reload = inject(PAGE_RELOAD);
  protected readonly code = signal<string | null>(null);
  protected readonly problem = signal<string | null>(null);
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor() {
    inject(DestroyRef).onDestroy(() => {
      this.stopped = true;
      if (this.timer !== null) clearTimeout(this.timer);
    });
    afterNextRender(() => {
      if (this.auth.setupRequired()) return;
      // A token the gateway no longer takes (revoked, or the data was reset) is worthless here.
      this.token.clear();
      void this.newCode();
    });
  }

  private later(step: () => Promise<void>, ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void step(), ms);
  }

  private async newCode(): Promise<void> {
    try {
      const start = await this.api.startPairing();
      this.code.set(start.code);
      this.problem.set(null);
      this.later(() => this.poll(start.pairingId, start.pollMs), start.pollMs);
    } catch (error) {
      this.code.set(null);
      this.problem.set(`${message(error)} Trying again…`);
      this.later(() => this.newCode(), RETRY_MS);
    }
  }

  private async poll(pairingId: string, pollMs: number): Promise<void> {
    try {
      const claim = await this.api.claim(pairingId);
      if (claim.status === 'paired') {
        this.token.set(claim.token);
        this.reload();
        return;
      }
      this.problem.set(null);
      this.later(() => this.poll(pairingId, pollMs), pollMs);
    } catch (error) {
      if (error instanceof AuthRequestError && error.status === 404) return void this.newCode();
      this.problem.set(`${message(error)} Still waiting…`);
      this.later(() => this.poll(pairingId, pollMs), Math.max(pollMs, RETRY_MS));
    }
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
