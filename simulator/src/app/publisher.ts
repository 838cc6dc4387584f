import { connect as mqttConnect, IClientOptions, MqttClient } from 'mqtt';
import { metaTopic, statusTopic, telemetryTopic } from '@pulse/protocol';
import { DeviceModel } from './models/device-model';

export type Connect = (url: string, options: IClientOptions) => MqttClient;

/** Most bytes buffered on one connection before new readings are skipped (backpressure, not memory growth). */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Most unacknowledged QoS 1 telemetry messages per connection. */
const MAX_INFLIGHT_QOS1 = 1000;

export interface PublisherOptions {
  url: string;
  qos: 0 | 1;
  /** Number of connections; equal to the fleet size means one per device, each with its own Last Will. */
  connections: number;
  /** Nominal publish interval of a device, for the meta hint. */
  intervalMs: number;
  connect?: Connect;
  /** Unique per run, so two simulators with the same prefix do not kick each other off the broker. */
  clientIdSuffix?: string;
  /** Broker username, password and CA (BrokerCredentials), added to every connection. */
  auth?: { username?: string; password?: string; ca?: Buffer };
  /** Per-device mode: each device connects as its id with this secret (`--credentials-file`). */
  deviceSecrets?: ReadonlyMap<string, string>;
}

export interface PublisherCounters {
  messages: number;
  readings: number;
  errors: number;
  /** Readings not sent because the connection was down or backed up. */
  skipped: number;
  lastError: string | null;
}

/** One MQTT connection and the devices that publish through it. */
interface Link {
  client: MqttClient;
  devices: DeviceModel[];
  /** Per-device link deliberately dropped to simulate an outage. */
  down: boolean;
  inflight: number;
  /** Load mode: a 'drain' listener is already registered on this connection's socket. */
  waitingDrain: boolean;
}

/**
 * The thin side-effect layer: owns the MQTT connections, nothing else.
 *
 * Per-device mode (connections = devices): each device has its own client
 * and its own Last Will (`offline`, retained), exactly like real hardware; an
 * outage destroys the socket without DISCONNECT so the broker fires the will.
 *
 * Pooled mode (fewer connections, the default above 200 devices and for
 * `--load`): devices share a few connections. It scales to 100 000 devices
 * and benchmark rates, but a connection can carry only one Last Will, so a
 * crash of the simulator does not mark each device offline; outages and
 * shutdown publish `offline` explicitly instead.
 */
export class Publisher {
  readonly counters: PublisherCounters = {
    messages: 0,
    readings: 0,
    errors: 0,
    skipped: 0,
    lastError: null,
  };
  readonly perDevice: boolean;
  private readonly links: Link[] = [];
  private readonly linkOf = new Map<DeviceModel, Link>();
  private readonly connect: Connect;
  private stopping = false;

  constructor(
    private readonly devices: readonly DeviceModel[],
    private readonly options: PublisherOptions,
  ) {
    this.connect = options.connect ?? mqttConnect;
    this.perDevice = options.connections >= devices.length;
  }

  start(): void {
    if (this.perDevice) {
      for (const device of this.devices) this.openLink([device]);
      return;
    }
    const count = Math.max(1, Math.min(this.options.connections, this.devices.length));
    const groups: DeviceModel[][] = Array.from({ length: count }, () => []);
    this.devices.forEach((device, i) => groups[i % count].push(device));
    for (const group of groups) this.openLink(group);
  }

  /** Devices whose connection is up and who are not in a simulated outage. */
  connectedDevices(): number {
    let n = 0;
    for (const link of this.links) {
      if (!link.client.connected || link.down) continue;
      if (this.perDevice) n++;
      else for (const d of link.devices) if (d.online) n++;
    }
    return n;
  }

  get connectionCount(): number {
    return this.links.length;
  }

  /**
   * Publish one telemetry payload for `device`. Skips (and counts) it when the
   * connection is down or backed up, so a slow broker never grows memory.
   */
  publishTelemetry(device: DeviceModel, payload: string, readings: number): boolean {
    const link = this.linkOf.get(device);
    if (!link || link.down || !link.client.connected || this.stopping || this.backedUp(link)) {
      this.counters.skipped += readings;
      return false;
    }
    if (this.options.qos === 0) {
      // No callback: QoS 0 callbacks wait for 'drain' one listener each; the buffer check above bounds memory.
      link.client.publish(telemetryTopic(device.id), payload, { qos: 0 });
      this.counters.messages++;
      this.counters.readings += readings;
      return true;
    }
    link.inflight++;
    link.client.publish(telemetryTopic(device.id), payload, { qos: 1 }, (error) => {
      link.inflight--;
      if (error) this.fail(error);
      else {
        this.counters.messages++;
        this.counters.readings += readings;
      }
    });
    return true;
  }

  /**
   * Load mode: can this device's connection take another message right now?
   * When not, `onReady` is called once the socket drains.
   */
  writable(device: DeviceModel, onReady: () => void): boolean {
    const link = this.linkOf.get(device);
    if (!link || !link.client.connected || this.stopping) return false;
    if (link.waitingDrain) return false;
    const stream = link.client.stream as {
      writableNeedDrain?: boolean;
      once(event: 'drain', cb: () => void): void;
    };
    if (stream.writableNeedDrain) {
      // One listener per connection, however many devices share it.
      link.waitingDrain = true;
      stream.once('drain', () => {
        link.waitingDrain = false;
        onReady();
      });
      return false;
    }
    return true;
  }

  /** The device's outage begins. */
  deviceOffline(device: DeviceModel): void {
    const link = this.linkOf.get(device);
    if (!link) return;
    if (this.perDevice) {
      // Force-close without DISCONNECT: the broker publishes the Last Will, as for a device losing power.
      link.down = true;
      link.client.end(true);
    } else {
      this.publishStatus(link, device, 'offline');
    }
  }

  /** The device's outage ends. */
  deviceOnline(device: DeviceModel): void {
    const link = this.linkOf.get(device);
    if (!link || this.stopping) return;
    if (this.perDevice) {
      this.links.splice(this.links.indexOf(link), 1);
      this.openLink([device]);
    } else {
      this.publishAnnouncement(link, device);
    }
  }

  /**
   * Publish retained `offline` for every device still up, then disconnect
   * cleanly (a clean DISCONNECT suppresses the Last Will; the status is already set).
   */
  async stop(timeoutMs = 2500): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const closing = this.links.map(
      (link) =>
        new Promise<void>((resolve) => {
          if (link.down || !link.client.connected) {
            link.client.end(true, () => resolve());
            return;
          }
          for (const device of link.devices) {
            if (this.perDevice || device.online) this.publishStatus(link, device, 'offline');
          }
          // end(false) waits for the QoS 1 acknowledgements of the statuses above.
          link.client.end(false, () => resolve());
        }),
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>(
      (resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)),
    );
    const result = await Promise.race([Promise.all(closing), timeout]);
    clearTimeout(timer);
    if (result === 'timeout') for (const link of this.links) link.client.end(true);
  }

  private openLink(devices: DeviceModel[]): void {
    const first = devices[0];
    const suffix = this.options.clientIdSuffix ?? Math.random().toString(36).slice(2, 8);
    const options: IClientOptions = {
      clientId: this.perDevice
        ? `${first.id}-${suffix}`
        : `pulse-sim-${suffix}-${this.links.length}`,
      protocolVersion: 4,
      clean: true,
      keepalive: 30,
      reconnectPeriod: 1000,
      connectTimeout: 10_000,
      // Never buffer QoS 0 readings while disconnected: they would be stale and unbounded.
      queueQoSZero: false,
      ...this.options.auth,
    };
    const secret = this.perDevice ? this.options.deviceSecrets?.get(first.id) : undefined;
    if (secret !== undefined) {
      options.username = first.id;
      options.password = secret;
    }
    if (this.perDevice) {
      options.will = {
        topic: statusTopic(first.id),
        payload: Buffer.from('offline'),
        qos: 1,
        retain: true,
      };
    }
    const client = this.connect(this.options.url, options);
    const link: Link = { client, devices, down: false, inflight: 0, waitingDrain: false };
    this.links.push(link);
    for (const device of devices) this.linkOf.set(device, link);
    // Every (re)connect announces the devices again: the broker may have fired the will meanwhile.
    client.on('connect', () => {
      for (const device of devices)
        if (this.perDevice || device.online) this.publishAnnouncement(link, device);
    });
    client.on('error', (error) => this.fail(error));
  }

  private publishAnnouncement(link: Link, device: DeviceModel): void {
    this.publishStatus(link, device, 'online');
    const meta = JSON.stringify(device.meta(this.options.intervalMs));
    link.client.publish(
      metaTopic(device.id),
      meta,
      { qos: 1, retain: true },
      (error) => error && this.fail(error),
    );
  }

  private publishStatus(link: Link, device: DeviceModel, status: 'online' | 'offline'): void {
    link.client.publish(statusTopic(device.id), status, { qos: 1, retain: true }, (error) => {
      // Errors caused by our own shutdown of the connection are not worth reporting.
      if (error && !this.stopping) this.fail(error);
    });
  }

  private backedUp(link: Link): boolean {
    if (this.options.qos === 1 && link.inflight >= MAX_INFLIGHT_QOS1) return true;
    const stream = link.client.stream as { writableLength?: number } | undefined;
    return (stream?.writableLength ?? 0) > MAX_BUFFERED_BYTES;
  }

  private fail(error: Error): void {
    this.counters.errors++;
    this.counters.lastError = error.message;
  }
}
