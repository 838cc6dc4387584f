import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { AuthService } from '../core/auth/auth.service';

/*
 * What `/wall` shows when this browser may not watch (anonymous viewing off, nobody signed in,
 * or no account created yet). An unattended screen must never land on a sign-in form, so this
 * is a full-screen notice, not a redirect. Reads AuthService only; pairing comes later.
 */
@Component({
  selector: 'app-wall-locked-page',
  template: `
    <section class="wall-locked" data-testid="wall-locked" role="status">
      <h1>This screen needs to be paired or signed in</h1>
      @if (auth.setupRequired()) {
        <p>Pulse has no admin account yet: create it from a desktop browser first.</p>
      } @else {
        <p>
          Anonymous viewing is off on this server. Sign in to Pulse in this browser (from the main
          dashboard), then reload this page.
        </p>
      }
    </section>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class WallLockedPage {
  protected readonly auth = inject(AuthService);
}
