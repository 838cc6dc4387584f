import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Reading } from '@pulse/protocol';
import { CONFIG, Config } from '../config/config';
import { HistoryWriter } from '../history/history-writer.service';
import type { MqttClientAuth } from '../config/secret-files';
import { DeviceOwnership } from '../ownership/device-ownership.service';
import { OwnershipRedis } from '../ownership/ownership-redis.repository';
import { DRAIN_MAX_MS, MqttHandlers, MqttRepository } from './mqtt.repository';

/** The ingest's handlers a drain feeds: the session's messages, and the journal's readings. */
export interface DrainHandlers extends Pick<MqttHandlers, 'message' | 'backpressure'> {
  /** A dead gateway's journaled readings, just written to the store: to the screens. */
  replayed?(deviceId: string, readings: Reading[]): void;
}

/**
 * Several gateways on a shared broker (MQTT_URL and REDIS_URL): when a gateway's lease lapses
 * (SIGKILL, a crash), one survivor drains its MQTT session, so that nothing the broker had handed
 * it and nothing of its share since is lost (decision 0029, session 9 addendum). Each gateway
 * records its MQTT client id next to its lease; on a membership change every survivor tries to
 * claim each lost member's drain in Redis (one wins), and the winner takes the session through
 * {@link MqttRepository.drain} into the same ingest path as its own messages, then writes what
 * the lost gateway had acknowledged but not stored from its journal, when the gateways share a
 * DATA_DIR (HistoryWriter.replayPeer), and hands those readings to the ingest for the screens: a
 * screen that healed before they were written holds newer readings, so its `since` would not ask
 * for them.
 *
 * Owns when and whose session is drained; must not decode messages (the ingest does) nor hold
 * Redis keys (OwnershipRedis does).
 */
@Injectable()
export class SessionDrain {
  private readonly logger = new Logger('SessionDrain');
  private readonly counters = { sessions: 0, messages: 0, journalValues: 0, failures: 0 };
  private link: {
    url: string;
    auth: MqttClientAuth;
    handlers: DrainHandlers;
  } | null = null;
  private readonly running = new Set<string>();

  constructor(
    @Inject(CONFIG) private readonly config: Pick<Config, 'MQTT_CLIENT_ID'>,
    private readonly mqtt: MqttRepository,
    @Optional() private readonly ownership?: DeviceOwnership,
    @Optional() private readonly redis?: OwnershipRedis,
    @Optional() private readonly history?: HistoryWriter,
  ) {}

  /** The ingest connected to an external broker: record our session, drain lost members'. */
  start(url: string, auth: MqttClientAuth, handlers: DrainHandlers): void {
    const { ownership, redis } = this;
    if (!ownership?.enabled || !redis?.enabled) return; // one gateway (no REDIS_URL)
    this.link = { url, auth, handlers };
    redis.setSession(ownership.self, this.config.MQTT_CLIENT_ID).catch((error: Error) => {
      this.counters.failures++;
      redis.report('session', `MQTT session not recorded: ${error.message}`);
    });
    ownership.onChange((previous, current) => {
      for (const member of previous)
        if (member !== ownership.self && !current.includes(member)) void this.drainFor(member);
    });
  }

  /**
   * A clean stop, after the ingest left the broker (its share unsubscribed): the session record
   * goes, so no survivor takes the client id from this gateway as it restarts.
   */
  async stop(): Promise<void> {
    const { ownership, redis } = this;
    if (!this.link || !ownership || !redis) return;
    this.link = null;
    await redis.clearSession(ownership.self).catch((error: Error) => {
      redis.report('session', `MQTT session record not removed: ${error.message}`);
    });
  }

  /** Started: this gateway shares a broker with others. */
  get active(): boolean {
    return this.link !== null;
  }

  /**
   * Sessions drained, messages taken from them, values written from the lost gateways' journals,
   * and failures on the way.
   */
  stats(): { sessions: number; messages: number; journalValues: number; failures: number } {
    return { ...this.counters };
  }

  private async drainFor(member: string): Promise<void> {
    const { link, ownership, redis } = this;
    // (`link` is null once this gateway is stopping: it drains nothing more.)
    if (!link || !ownership || !redis || this.running.has(member)) return;
    this.running.add(member);
    try {
      const clientId = await redis.sessionOf(member);
      if (!clientId || clientId === this.config.MQTT_CLIENT_ID) return;
      if (ownership.currentMembers().includes(member)) return; // back already
      if (!(await redis.claimDrain(member, ownership.self, DRAIN_MAX_MS))) return;
      this.logger.log(`draining the MQTT session of ${member} (${clientId})`);
      const messages = await this.mqtt.drain(link.url, clientId, link.handlers, link.auth);
      this.counters.sessions++;
      this.counters.messages += messages;
      this.logger.log(`drained ${messages} message(s) from the session of ${member}`);
      // What it had acknowledged and not stored (its journal, when the DATA_DIR is shared).
      this.counters.journalValues +=
        (await this.history?.replayPeer(member, (readings) => {
          for (const [deviceId, ofDevice] of readings) link.handlers.replayed?.(deviceId, ofDevice);
        })) ?? 0;
    } catch (error) {
      this.counters.failures++;
      redis.report(
        'drain',
        `session or journal of ${member} not taken: ${(error as Error).message}`,
      );
    } finally {
      this.running.delete(member);
    }
  }
}
