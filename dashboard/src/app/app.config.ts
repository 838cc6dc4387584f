import {
  ApplicationConfig,
  inject,
  provideAppInitializer,
  provideBrowserGlobalErrorListeners,
} from '@angular/core';
import { DOCUMENT } from '@angular/common';
import { provideRouter, withComponentInputBinding } from '@angular/router';
import { appRoutes, preloadLandingPage } from './app.routes';
import { provideAuthRecheck } from './auth/auth-recheck';
import { DisplayTokenStore } from './core/auth/display-token';
import { mayStartEarly } from './core/live/early-start';
import { LiveService } from './core/live/live.service';
import { pageStorage } from './core/util/page-storage';

/*
 * The app-wide providers: global error listeners, the router (route params bound to
 * component inputs), fetching the landing page's chunks and opening its live connection at
 * start-up. It must not provide
 * services or tokens: they are `providedIn: 'root'`
 * where they are defined (specs override them through testing/testbed.ts), routes live in
 * app.routes.ts.
 */

export const appConfig: ApplicationConfig = {
  // Zoneless (Angular 21 default): signals drive change detection; charts draw outside Angular anyway.
  providers: [
    provideBrowserGlobalErrorListeners(),
    provideRouter(appRoutes, withComponentInputBinding()),
    // A page let in (or sent to sign in) while the gateway did not answer is checked again once it does.
    provideAuthRecheck(),
    // The landing page's chunks load while the app asks who is signed in (does not hold boot up),
    // and its live connection opens beside them where it will be let in (core/live/early-start.ts).
    provideAppInitializer(() => {
      const win = inject(DOCUMENT).defaultView;
      const pathname = win?.location.pathname ?? '/';
      preloadLandingPage(pathname);
      const paired = inject(DisplayTokenStore).token() !== null;
      if (mayStartEarly(pageStorage(win), pathname, paired)) inject(LiveService).start();
    }),
  ],
};
