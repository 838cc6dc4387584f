import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { urlHost } from '@pulse/protocol';
import { EmbeddedBrokerRepository } from './broker/embedded-broker.repository';
import { AlertsService } from './alerts/alerts.service';
import { CONFIG, Config } from './config/config';
import { readMqttClientAuth, readTlsMaterial, redactUrl } from './config/secret-files';
import { DeviceCredentialsService } from './device-credentials/device-credentials.service';
import { DeviceRegistryService } from './devices/device-registry.service';
import { IngestService } from './ingest/ingest.service';
import { LiveGateway } from './live/live.gateway';
import { simulatedFleet, SIMULATOR_USERNAME } from './simulator/simulator-identity';
import { SimulatorRepository } from './simulator/simulator.repository';

/**
 * Starts and stops the moving parts in order — broker, ingest, simulator (Socket.IO is up
 * before: Nest initialises the live gateway ahead of the bootstrap hooks) — and the reverse,
 * Socket.IO included, on shutdown, where the device registry and the alerts write their last
 * changes once the ingest stopped (not in hooks of their own: Nest runs the hooks of a phase
 * together, and `onModuleDestroy` comes before this one, ahead of the statuses and readings the
 * stop causes). Each part is owned by its own repository/service; this only sequences them.
 */
@Injectable()
export class PulseRuntime implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Pulse');
  mqttUrl = '';
  mqttsUrl: string | null = null;

  constructor(
    @Inject(CONFIG) private readonly config: Config,
    private readonly broker: EmbeddedBrokerRepository,
    private readonly ingest: IngestService,
    private readonly gateway: LiveGateway,
    private readonly simulator: SimulatorRepository,
    private readonly deviceCredentials: DeviceCredentialsService,
    private readonly registry: DeviceRegistryService,
    private readonly alerts: AlertsService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { config } = this;
    // Several gateways: ingest only once this one can relay to the screens on the others.
    await this.gateway.interestKnown();
    if (config.MQTT_URL) {
      this.mqttUrl = config.MQTT_URL;
      await this.ingest.start(
        'external',
        redactUrl(this.mqttUrl),
        undefined,
        readMqttClientAuth(config),
      );
    } else {
      // Embedded: the ingest subscribes in-process before the broker listens, so it
      // sees every message (retained status/meta included) a device ever publishes.
      const inProcess = this.broker.create();
      await this.ingest.start('embedded', '', inProcess);
      const port = await this.broker.listen(config.HOST, config.MQTT_PORT);
      this.mqttUrl = `mqtt://${urlHost(config.HOST)}:${port}`;
      this.ingest.setBrokerUrl(this.mqttUrl);
      const tls = readTlsMaterial(config);
      if (tls) {
        const tlsPort = await this.broker.listen(config.HOST, config.MQTT_TLS_PORT, tls);
        this.mqttsUrl = `mqtts://${urlHost(config.HOST)}:${tlsPort}`;
      }
    }
    if (config.SIMULATOR === 'on') {
      this.simulator.start({
        mqttUrl: this.mqttUrl,
        devices: config.SIMULATOR_DEVICES,
        rate: config.SIMULATOR_RATE,
        dropout: config.SIMULATOR_DROPOUT,
        offline: config.SIMULATOR_OFFLINE,
        pidDir: config.DATA_DIR,
        // External broker: the gateway's own credentials. Embedded: an identity of its own,
        // allowed to publish for its fleet only (works with ANONYMOUS_DEVICES=false).
        credentials: config.MQTT_URL
          ? {
              MQTT_USERNAME: config.MQTT_USERNAME,
              MQTT_PASSWORD_FILE: config.MQTT_PASSWORD_FILE,
              MQTT_CA_FILE: config.MQTT_CA_FILE,
            }
          : {},
        login: config.MQTT_URL
          ? undefined
          : {
              username: SIMULATOR_USERNAME,
              password: this.deviceCredentials.registerService(
                SIMULATOR_USERNAME,
                simulatedFleet(config.SIMULATOR_DEVICES),
              ),
              dir: config.DATA_DIR,
            },
      });
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    const started = Date.now();
    // The simulator's devices say `offline` as it stops; the ingest applies them until it stops.
    // The registry keeps them; the alerts take them for what they are, the gateway's own doing.
    this.alerts.stoppingSimulator(this.simulator.fleet());
    try {
      await this.simulator.stop();
      await this.ingest.stop();
    } finally {
      // Nothing changes a status or an alert any more (or stopping failed: their timers must not
      // outlive the stores): their last writes, before the stores close.
      await this.registry.close();
      await this.alerts.close();
    }
    await this.gateway.stop();
    await this.broker.stop();
    this.logger.debug(
      `simulator, ingest, device registry, alerts, live gateway and broker stopped in ${Date.now() - started} ms`,
    );
  }
}
