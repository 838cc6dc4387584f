import { DynamicModule, Module } from '@nestjs/common';
import { EmbeddedBrokerRepository } from './broker/embedded-broker.repository';
import { CONFIG, Config } from './config/config';
import { DeviceRegistryService } from './devices/device-registry.service';
import { DevicesController } from './devices/devices.controller';
import { HistoryService } from './history/history.service';
import { SystemController } from './http/system.controller';
import { IngestService } from './ingest/ingest.service';
import { MqttRepository } from './ingest/mqtt.repository';
import { LiveHubService } from './live/live-hub.service';
import { LiveSocketRepository } from './live/live-socket.repository';
import { LiveSubscriptionService } from './live/live-subscription.service';
import { LiveGateway } from './live/live.gateway';
import { PulseRuntime } from './pulse-runtime.service';
import { SimulatorRepository } from './simulator/simulator.repository';
import { StatsService } from './stats/stats.service';

/** Repositories own side effects (broker, MQTT client, Socket.IO, child process); services hold the logic. */
const repositories = [
  EmbeddedBrokerRepository,
  MqttRepository,
  LiveSocketRepository,
  SimulatorRepository,
];
const services = [
  DeviceRegistryService,
  HistoryService,
  IngestService,
  LiveHubService,
  LiveSubscriptionService,
  StatsService,
];

@Module({})
export class AppModule {
  static forRoot(config: Config): DynamicModule {
    return {
      module: AppModule,
      controllers: [SystemController, DevicesController],
      providers: [
        { provide: CONFIG, useValue: config },
        ...repositories,
        ...services,
        LiveGateway,
        PulseRuntime,
      ],
    };
  }
}
