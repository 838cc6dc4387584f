import { Route } from '@angular/router';

export const appRoutes: Route[] = [
  {
    path: '',
    pathMatch: 'full',
    title: 'Pulse · Fleet',
    loadComponent: () => import('./overview/overview.page').then((m) => m.OverviewPage),
  },
  {
    path: 'devices/:id',
    title: 'Pulse · Device',
    loadComponent: () => import('./device/device.page').then((m) => m.DevicePage),
  },
  {
    path: 'alerts',
    title: 'Pulse · Alerts',
    loadComponent: () => import('./alerts/alerts.page').then((m) => m.AlertsPage),
  },
  {
    path: 'wall',
    title: 'Pulse · Wall',
    loadComponent: () => import('./wall/wall.page').then((m) => m.WallPage),
  },
  { path: '**', redirectTo: '' },
];
