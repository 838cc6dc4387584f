import { bootstrapApplication } from '@angular/platform-browser';
import { appConfig } from './app/app.config';
import { App } from './app/app';

/*
 * The browser entry: boots the root component with the app-wide providers, nothing more. It
 * must not grow set-up of its own: providers belong in app.config.ts, starting the live
 * connection to App, and every page loads lazily from app.routes.ts.
 */

bootstrapApplication(App, appConfig).catch((err) => console.error(err));
