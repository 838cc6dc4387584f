import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AlertRule } from '@pulse/protocol';
import { AlertRulesController, AlertsController } from './alerts/alerts.controller';
import { AlertsService, INITIAL_ALERT_RULES } from './alerts/alerts.service';
import { ALERT_STORE_PROVIDER } from './alerts/alert-store.provider';
import { AuthController } from './auth/auth.controller';
import { BackupController } from './backup/backup.controller';
import { BackupService } from './backup/backup.service';
import { AuthService, SCREEN_TOKENS } from './auth/auth.service';
import { LiveSessions } from './auth/live-sessions';
import { LiveAuth } from './auth/live-auth';
import { LoginService } from './auth/login.service';
import { RolesGuard } from './auth/roles.guard';
import { TokenSigner } from './auth/token-signer';
import { UsersController } from './auth/users.controller';
import { UsersRepository } from './auth/users.repository';
import { UsersService } from './auth/users.service';
import { EmbeddedBrokerRepository } from './broker/embedded-broker.repository';
import { CONFIG, Config } from './config/config';
import { BridgeCredentialsController } from './device-credentials/bridge-credentials.controller';
import { BridgeCredentialsService } from './device-credentials/bridge-credentials.service';
import { DeviceCredentialsController } from './device-credentials/device-credentials.controller';
import { DeviceCredentialsRepository } from './device-credentials/device-credentials.repository';
import { DeviceCredentialsService } from './device-credentials/device-credentials.service';
import { DeviceRegistryService } from './devices/device-registry.service';
import { DeviceOriginsService } from './devices/device-origins.service';
import { DEVICE_STORE_PROVIDER } from './devices/device-store.provider';
import { DevicesController } from './devices/devices.controller';
import { WindowsController } from './devices/windows.controller';
import { FleetController } from './fleet/fleet.controller';
import { FleetSummaryService } from './fleet/fleet-summary.service';
import { READINESS_PROVIDERS } from './health/readiness.providers';
import { HISTORY_PROVIDERS } from './history/history.providers';
import { HttpErrorBodyFilter } from './http/http-error-body.filter';
import { SystemController } from './http/system.controller';
import { IngestService } from './ingest/ingest.service';
import { SessionDrain } from './ingest/session-drain.service';
import { MqttRepository } from './ingest/mqtt.repository';
import { SOURCE_ROUTER, SourceRouter } from './ingest/sources/source-router';
import { sourceRouterOf } from './ingest/sources/source-router.provider';
import { LIVE_PROVIDERS } from './live/live.providers';
import { AlertRouting } from './ownership/alert-routing.service';
import { DeviceOwnership } from './ownership/device-ownership.service';
import { OwnershipRedis } from './ownership/ownership-redis.repository';
import { PulseRuntime } from './pulse-runtime.service';
import { ClientAddress } from './common/client-address';
import { EntryGuard } from './security/entry-guard.service';
import { ReadBudget } from './security/read-budget';
import { SecurityCounters } from './security/security-counters.service';
import { ScreensController } from './screens/screens.controller';
import { ScreensRepository } from './screens/screens.repository';
import { ScreensService } from './screens/screens.service';
import { SimulatorRepository } from './simulator/simulator.repository';
import { StatsService } from './stats/stats.service';
import { MetricsService } from './stats/metrics.service';
import { Database } from './store/database';
import { PG_POOL_PROVIDER } from './store/pg-pool';

/**
 * Repositories own side effects (broker, MQTT client, child process; the live layer's
 * LiveEmitter owns Socket.IO); services hold the logic. The one module: wires every feature
 * folder, and is the only file that imports them all besides the runtime.
 */
const repositories = [
  Database,
  PG_POOL_PROVIDER,
  EmbeddedBrokerRepository,
  MqttRepository,
  SimulatorRepository,
  UsersRepository,
  ScreensRepository,
  DeviceCredentialsRepository,
  // PostgreSQL (one pool) with DATABASE_URL, else the SQLite file: history, registry, alerts.
  DEVICE_STORE_PROVIDER,
  ALERT_STORE_PROVIDER,
  // Device ownership's leases and forwarded readings (REDIS_URL; opens nothing without it).
  OwnershipRedis,
];
const services = [
  AlertsService,
  BackupService,
  // Which gateway evaluates a device's alerts (decision 0029); with one gateway, this one.
  DeviceOwnership,
  AlertRouting,
  DeviceRegistryService,
  DeviceOriginsService,
  FleetSummaryService,
  ...HISTORY_PROVIDERS,
  ...READINESS_PROVIDERS,
  SessionDrain,
  IngestService,
  StatsService,
  MetricsService,
  SecurityCounters,
  {
    provide: ClientAddress,
    useFactory: (config: Config) => new ClientAddress(config.TRUST_PROXY),
    inject: [CONFIG],
  },
  EntryGuard,
  ReadBudget,
  TokenSigner,
  AuthService,
  LoginService,
  UsersService,
  LiveAuth,
  LiveSessions,
  ScreensService,
  // Display tokens verify through the screens feature (a port of auth/).
  { provide: SCREEN_TOKENS, useExisting: ScreensService },
  DeviceCredentialsService,
  BridgeCredentialsService,
  // The one role check of every REST route (auth/roles.guard.ts).
  { provide: APP_GUARD, useClass: RolesGuard },
  // One error body over HTTP, `{statusCode, error, message}` (http/http-error-body.filter.ts).
  { provide: APP_FILTER, useClass: HttpErrorBodyFilter },
];

@Module({})
export class AppModule {
  /** `alertRules`: the rules loaded at boot (`loadInitialAlertRules`). */
  static forRoot(config: Config, alertRules: readonly AlertRule[]): DynamicModule {
    // Checked here, at boot: a bad sources file stops the start with every problem listed.
    const sources = SourceRouter.sourcesOf(config);
    return {
      module: AppModule,
      controllers: [
        SystemController,
        DevicesController,
        WindowsController,
        FleetController,
        AlertsController,
        AlertRulesController,
        AuthController,
        UsersController,
        ScreensController,
        BackupController,
        DeviceCredentialsController,
        BridgeCredentialsController,
      ],
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: INITIAL_ALERT_RULES, useValue: alertRules },
        // Discovery never speaks for an id with credentials (decision 0067; none with MQTT_URL).
        {
          provide: SOURCE_ROUTER,
          useFactory: (credentials: DeviceCredentialsService) =>
            sourceRouterOf(config, sources, credentials),
          inject: [DeviceCredentialsService],
        },
        ...repositories,
        ...services,
        ...LIVE_PROVIDERS,
        PulseRuntime,
      ],
    };
  }
}
