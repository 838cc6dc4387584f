import { ApplicationConfig, provideBrowserGlobalErrorListeners } from '@angular/core';
import { provideRouter, withComponentInputBinding } from '@angular/router';
import { appRoutes } from './app.routes';

/*
 * The app-wide providers: global error listeners and the router (route params bound to
 * component inputs). It must not provide services or tokens: they are `providedIn: 'root'`
 * where they are defined (specs override them through testing/testbed.ts), routes live in
 * app.routes.ts.
 */

export const appConfig: ApplicationConfig = {
  // Zoneless (Angular 21 default): signals drive change detection; charts draw outside Angular anyway.
  providers: [
    provideBrowserGlobalErrorListeners(),
    provideRouter(appRoutes, withComponentInputBinding()),
  ],
};
