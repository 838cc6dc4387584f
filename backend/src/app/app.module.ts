import { DynamicModule, Module } from '@nestjs/common';
import { AlertRule } from '@pulse/protocol';
import { AlertRulesController, AlertsController } from './alerts/alerts.controller';
import { AlertsService, INITIAL_ALERT_RULES } from './alerts/alerts.service';
import { EmbeddedBrokerRepository } from './broker/embedded-broker.repository';
import { CONFIG, Config } from './config/config';
import { DeviceRegistryService } from './devices/device-registry.service';
import { DevicesController } from './devices/devices.controller';
import { HistoryService } from './history/history.service';
import { SystemController } from './http/system.controller';
import { IngestService } from './ingest/ingest.service';
import { MqttRepository } from './ingest/mqtt.repository';
import { LIVE_PROVIDERS } from './live/live.providers';
import { PulseRuntime } from './pulse-runtime.service';
import { EntryGuard } from './security/entry-guard.service';
import { SecurityCounters } from './security/security-counters.service';
import { SimulatorRepository } from './simulator/simulator.repository';
import { StatsService } from './stats/stats.service';

/**
 * Repositories own side effects (broker, MQTT client, child process; the live layer's
 * LiveEmitter owns Socket.IO); services hold the logic. The one module: wires every feature
 * folder, and is the only file that imports them all besides the runtime.
 */
const repositories = [EmbeddedBrokerRepository, MqttRepository, SimulatorRepository];
const services = [
  AlertsService,
  DeviceRegistryService,
  HistoryService,
  IngestService,
  StatsService,
  SecurityCounters,
  EntryGuard,
];

@Module({})
export class AppModule {
  /** `alertRules`: the rules loaded at boot (`loadInitialAlertRules`). */
  static forRoot(config: Config, alertRules: readonly AlertRule[]): DynamicModule {
    return {
      module: AppModule,
      controllers: [SystemController, DevicesController, AlertsController, AlertRulesController],
      providers: [
        { provide: CONFIG, useValue: config },
        { provide: INITIAL_ALERT_RULES, useValue: alertRules },
        ...repositories,
        ...services,
        ...LIVE_PROVIDERS,
        PulseRuntime,
      ],
    };
  }
}
