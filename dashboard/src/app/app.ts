import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { NavigationEnd, Router, RouterLink, RouterLinkActive, RouterOutlet } from '@angular/router';
import { filter, map } from 'rxjs';
import { LiveService } from './core/live/live.service';
import { AlertSummaryComponent } from './alerts/alert-summary.component';
import { ConnectionStatusComponent } from './shared/connection-status.component';

@Component({
  imports: [
    RouterOutlet,
    RouterLink,
    RouterLinkActive,
    ConnectionStatusComponent,
    AlertSummaryComponent,
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

  constructor() {
    inject(LiveService).start();
  }
}
