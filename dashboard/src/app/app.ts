import { ChangeDetectionStrategy, Component, effect, inject } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { NavigationEnd, Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { filter, map } from 'rxjs';
import { AuthService } from './core/auth/auth.service';
import { LiveService } from './core/live/live.service';
import { AlertSummaryComponent } from './alerts/alert-summary.component';
import { ConnectionStatusComponent } from './shared/connection-status.component';
import { UserMenuComponent } from './auth/user-menu.component';

@Component({
  imports: [
    RouterOutlet,
    RouterLink,
    RouterLinkActive,
    ConnectionStatusComponent,
    AlertSummaryComponent,
    UserMenuComponent,
  ],
  selector: 'app-root',
  templateUrl: './app.html',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class App {
  private readonly router = inject(Router);
  /** Wall mode has no app chrome. */
  protected readonly kiosk = toSignal(
    this.router.events.pipe(
      filter((e): e is NavigationEnd => e instanceof NavigationEnd),
      map((e) => e.urlAfterRedirects.startsWith('/wall')),
    ),
    { initialValue: false },
  );

  protected readonly auth = inject(AuthService);

  constructor() {
    const live = inject(LiveService);
    void this.auth.ready();
    // Connect once the server said we may watch: a refused handshake would only retry.
    effect(() => {
      if (this.auth.loaded() && this.auth.canView()) live.start();
    });
  }
}
