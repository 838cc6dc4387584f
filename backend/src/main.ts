import { Logger } from '@nestjs/common';
import { LIVE_NAMESPACE } from '@pulse/protocol';
import { ConfigError, loadConfig, StartupError } from './app/config/config';
import { pulseLoggerFor } from './app/logging/pulse.logger';
import { startPulse } from './app/pulse';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }

  let pulse;
  try {
    pulse = await startPulse(config);
  } catch (error) {
    // In the configured format and with the gateway's identity, so a collector sees why.
    if (!(error instanceof StartupError)) throw error;
    pulseLoggerFor(config).fatal(`Pulse cannot start: ${error.message}`, 'Pulse');
    process.exit(1);
  }
  const logger = new Logger('Pulse');
  const browserUrl = pulse.httpUrl.replace('//127.0.0.1:', '//localhost:');
  logger.log(`dashboard   ${browserUrl}/`);
  logger.log(`api         ${browserUrl}/api/health`);
  logger.log(`socket.io   ${browserUrl}${LIVE_NAMESPACE} (websocket, polling)`);
  logger.log(`mqtt        ${pulse.mqttUrl} (${config.MQTT_URL ? 'external' : 'embedded Aedes'})`);
  if (pulse.mqttsUrl) logger.log(`mqtts       ${pulse.mqttsUrl} (embedded Aedes, TLS)`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.log(`${signal}: shutting down`);
    setTimeout(() => {
      logger.error('shutdown took over 10 s: exiting anyway');
      process.exit(1);
    }, 10_000).unref();
    const started = Date.now();
    pulse.close().then(
      () => {
        logger.log(`stopped in ${Date.now() - started} ms`);
        process.exit(0);
      },
      (error) => {
        logger.error(`shutdown failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error) => {
  console.error(error instanceof StartupError ? `Pulse cannot start: ${error.message}` : error);
  process.exit(1);
});
