import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { urlHost } from '@pulse/protocol';
import type { AddressInfo } from 'node:net';
import { loadInitialAlertRules } from './alerts/alerts.service';
import { AppModule } from './app.module';
import { anonymousRoleOf } from './auth/auth.service';
import { Config, StartupError } from './config/config';
import { readTlsMaterial } from './config/secret-files';
import { mountApiCompression } from './http/api-compression';
import { mountDashboard } from './http/dashboard-static';
import { mountRequestLogging, pulseLoggerFor } from './logging/pulse.logger';
import { LiveIoAdapter } from './live/live-io.adapter';
import { LiveRedis } from './live/live-redis.repository';
import { ClientAddress } from './common/client-address';
import { EntryGuard } from './security/entry-guard.service';
import { PulseRuntime } from './pulse-runtime.service';
import { hardenHttp } from './security/http-hardening';

export interface PulseHandle {
  /**
   * e.g. http://127.0.0.1:3000 (dashboard at `/`, API at `/api`, Socket.IO namespace `/live`);
   * https:// with TLS_CERT_FILE/TLS_KEY_FILE.
   */
  httpUrl: string;
  /** Broker the ingest uses (embedded Aedes or MQTT_URL); devices publish here. */
  mqttUrl: string;
  /** The embedded broker's mqtts listener (TLS set, MQTT_URL unset), e.g. mqtts://127.0.0.1:8883. */
  mqttsUrl: string | null;
  app: NestExpressApplication;
  /** Stops simulator, ingest, Socket.IO, broker and HTTP server. Idempotent. */
  close(): Promise<void>;
}

/**
 * Boot the whole backend in this process. Tests and the bench use it with
 * PORT=0, MQTT_PORT=0, SIMULATOR=off; `main.ts` uses it for the real thing.
 */
export async function startPulse(config: Config): Promise<PulseHandle> {
  // Before anything listens: a bad rules file stops the boot with every problem listed.
  const alertRules = loadInitialAlertRules(config);
  const tls = readTlsMaterial(config);
  // ANONYMOUS_ROLE=operator/admin stops the boot before anything listens.
  anonymousRoleOf(config);
  const logger = pulseLoggerFor(config);
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config, alertRules),
    {
      logger,
      abortOnError: false,
      forceCloseConnections: true,
      // JSON only: hardenHttp mounts the one body parser (no urlencoded/text, so no form posts).
      bodyParser: false,
      // HTTPS and WSS on PORT (no plain HTTP beside it: a redirect would invite sending the
      // session cookie in clear first).
      ...(tls ? { httpsOptions: { cert: tls.cert, key: tls.key } } : {}),
    },
  );
  try {
    app.setGlobalPrefix('api');
    app.disable('x-powered-by');
    mountRequestLogging(app, logger);
    hardenHttp(app, { tls: tls !== null, trustProxy: config.TRUST_PROXY });
    mountApiCompression(app);
    mountDashboard(app, config.DASHBOARD_DIR);
    // The live gateway's Socket.IO server: Pulse's options, the Origin allowlist on handshakes
    // and the connection caps on every Engine.IO connection, Socket.IO's Redis adapter with
    // REDIS_URL.
    const addresses = app.get(ClientAddress);
    const entry = app.get(EntryGuard);
    app.useWebSocketAdapter(
      new LiveIoAdapter(
        app,
        {
          allowRequest: entry.allowSocketRequest,
          admitConnection: entry.admitConnection,
          refuseNamespace: entry.refuseNamespace,
        },
        app.get(LiveRedis).installAdapter,
        // Behind trusted proxies, the forwarded client becomes each session's handshake.address.
        (req) => addresses.of(req),
      ),
    );
    await app.listen(config.PORT, config.HOST);
  } catch (error) {
    await app.close().catch(() => undefined);
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new StartupError(
        `PORT ${config.PORT} on ${config.HOST} is already in use: stop the other server or set PORT (0 = any free port)`,
      );
    }
    throw hostError(error, config.HOST) ?? error;
  }
  const { port } = app.getHttpServer().address() as AddressInfo;
  let closing: Promise<void> | null = null;
  return {
    httpUrl: `${tls ? 'https' : 'http'}://${urlHost(config.HOST)}:${port}`,
    mqttUrl: app.get(PulseRuntime).mqttUrl,
    mqttsUrl: app.get(PulseRuntime).mqttsUrl,
    app,
    close: () => (closing ??= app.close()),
  };
}

/**
 * The listen (HTTP, or the embedded broker's in the bootstrap hooks) failed because of HOST
 * itself: a name that does not resolve, or an address of no interface here. Its syntax is
 * checked with the other variables (config.ts); only the listen can tell these.
 */
function hostError(error: unknown, host: string): StartupError | null {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const hint = 'set HOST to an address or name of this machine, 0.0.0.0 for every interface';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL')
    return new StartupError(`HOST ${host} does not resolve (getaddrinfo ${code}): ${hint}`);
  if (code === 'EADDRNOTAVAIL')
    return new StartupError(`HOST ${host} is not an address of this machine: ${hint}`);
  return null;
}
