import {
  ApplicationConfig,
  inject,
  provideAppInitializer,
  provideBrowserGlobalErrorListeners,
} from '@angular/core';
import { DOCUMENT } from '@angular/common';
import { provideRouter, withComponentInputBinding } from '@angular/router';
import { appRoutes, preloadLandingPage } from './app.routes';

/*
 * The app-wide providers: global error listeners, the router (route params bound to
 * component inputs) and fetching the landing page's chunks at start-up. It must not provide
 * services or tokens: they are `providedIn: 'root'`
 * where they are defined (specs override them through testing/testbed.ts), routes live in
 * app.routes.ts.
 */

export const appConfig: ApplicationConfig = {
  // Zoneless (Angular 21 default): signals drive change detection; charts draw outside Angular anyway.
  providers: [
    provideBrowserGlobalErrorListeners(),
    provideRouter(appRoutes, withComponentInputBinding()),
    // The landing page's chunks load while the app asks who is signed in (does not hold boot up).
    provideAppInitializer(() => {
      preloadLandingPage(inject(DOCUMENT).defaultView?.location.pathname ?? '/');
    }),
  ],
};
