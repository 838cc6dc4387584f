import { Route } from '@angular/router';
import { adminGuard, loginGuard, setupGuard, viewGuard, wallAllowed } from './auth/auth.guards';

/*
 * The app's routes, every page loaded lazily, and which page to fetch at start-up. Owns paths,
 * guards and page loaders; must not hold page logic.
 */

/** Page loaders of the views people land on (a module is fetched once, whoever asks first). */
const pages = {
  overview: () => import('./overview/overview.page').then((m) => m.OverviewPage),
  device: () => import('./device/device.page').then((m) => m.DevicePage),
  alerts: () => import('./alerts/alerts.page').then((m) => m.AlertsPage),
  wall: () => import('./wall/wall.page').then((m) => m.WallPage),
};

/**
 * Start fetching the page for `pathname` now, while the app boots and asks who is signed in: the
 * router loads a lazy page only after its guard, which waits for that answer, and the page's
 * chunks then load one after the other (issue 11: the overview's first live tile).
 */
export function preloadLandingPage(pathname: string): void {
  const first = pathname.split('/')[1] ?? '';
  const load =
    first === ''
      ? pages.overview
      : first === 'devices'
        ? pages.device
        : first === 'alerts'
          ? pages.alerts
          : first === 'wall'
            ? pages.wall
            : null;
  // A failed fetch is the router's to report when it needs the page.
  load?.().catch(() => undefined);
}

export const appRoutes: Route[] = [
  {
    path: '',
    pathMatch: 'full',
    title: 'Pulse · Fleet',
    canActivate: [viewGuard],
    // Run again on a reload of the same URL: the guards' guess is checked once the gateway
    // answers who we are (auth/auth-recheck.ts).
    runGuardsAndResolvers: 'always',
    loadComponent: pages.overview,
  },
  {
    path: 'devices/:id',
    title: 'Pulse · Device',
    canActivate: [viewGuard],
    runGuardsAndResolvers: 'always',
    loadComponent: pages.device,
  },
  {
    path: 'alerts',
    title: 'Pulse · Alerts',
    canActivate: [viewGuard],
    runGuardsAndResolvers: 'always',
    loadComponent: pages.alerts,
  },
  {
    // Anyone who may view reads the rules; the page offers edits to admins (the gateway checks).
    path: 'rules',
    title: 'Pulse · Alert rules',
    canActivate: [viewGuard],
    runGuardsAndResolvers: 'always',
    loadComponent: () => import('./rules/rules.page').then((m) => m.RulesPage),
  },
  {
    path: 'screens',
    title: 'Pulse · Screens',
    canActivate: [adminGuard],
    runGuardsAndResolvers: 'always',
    loadComponent: () => import('./screens/screens.page').then((m) => m.ScreensPage),
  },
  {
    path: 'access',
    title: 'Pulse · Access',
    canActivate: [adminGuard],
    runGuardsAndResolvers: 'always',
    loadComponent: () => import('./access/access.page').then((m) => m.AccessPage),
  },
  {
    path: 'wall',
    title: 'Pulse · Wall',
    canMatch: [wallAllowed],
    loadComponent: pages.wall,
  },
  {
    // An unattended screen never lands on a sign-in form: it shows a pairing code instead.
    path: 'wall',
    title: 'Pulse · Wall',
    loadComponent: () => import('./auth/wall-pairing.page').then((m) => m.WallPairingPage),
  },
  {
    path: 'login',
    title: 'Pulse · Sign in',
    canActivate: [loginGuard],
    loadComponent: () => import('./auth/login.page').then((m) => m.LoginPage),
  },
  {
    path: 'setup',
    title: 'Pulse · First run',
    canActivate: [setupGuard],
    loadComponent: () => import('./auth/setup.page').then((m) => m.SetupPage),
  },
  { path: '**', redirectTo: '' },
];
