import { Route } from '@angular/router';
import { adminGuard, loginGuard, setupGuard, viewGuard, wallAllowed } from './auth/auth.guards';

export const appRoutes: Route[] = [
  {
    path: '',
    pathMatch: 'full',
    title: 'Pulse · Fleet',
    canActivate: [viewGuard],
    loadComponent: () => import('./overview/overview.page').then((m) => m.OverviewPage),
  },
  {
    path: 'devices/:id',
    title: 'Pulse · Device',
    canActivate: [viewGuard],
    loadComponent: () => import('./device/device.page').then((m) => m.DevicePage),
  },
  {
    path: 'alerts',
    title: 'Pulse · Alerts',
    canActivate: [viewGuard],
    loadComponent: () => import('./alerts/alerts.page').then((m) => m.AlertsPage),
  },
  {
    path: 'screens',
    title: 'Pulse · Screens',
    canActivate: [adminGuard],
    loadComponent: () => import('./screens/screens.page').then((m) => m.ScreensPage),
  },
  {
    path: 'wall',
    title: 'Pulse · Wall',
    canMatch: [wallAllowed],
    loadComponent: () => import('./wall/wall.page').then((m) => m.WallPage),
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
