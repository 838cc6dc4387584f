import { hostname } from 'node:os';
import type { Config } from './config';

/**
 * The one source of this gateway's identity: the `gateway` field of every log line and the
 * `gateway` label of every metric, so a log line and a series of one gateway correlate. Owns the
 * default only; must not be cached elsewhere under another name.
 *
 * `<hostname>:<PORT>` stays the same across restarts of one gateway (its series continue in
 * Prometheus); with PORT=0 (any free port) the port is unknown here, so the pid tells apart.
 */
export function gatewayId(config: Pick<Config, 'GATEWAY_ID' | 'PORT'>): string {
  if (config.GATEWAY_ID) return config.GATEWAY_ID;
  return config.PORT ? `${hostname()}:${config.PORT}` : `${hostname()}-${process.pid}`;
}
