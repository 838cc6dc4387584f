import type { INestApplication } from '@nestjs/common';
import { Logger as NestPinoLogger, PinoLogger } from 'nestjs-pino';
import pino, { DestinationStream } from 'pino';
import { pinoHttp } from 'pino-http';
import type { Config, LogLevelName } from '../config/config';
import { gatewayId } from '../config/gateway-id';
import { prettyDestination } from './pretty-destination';
import { REDACT_PATHS, REDACTED, scrubSecrets } from './redaction';

/**
 * Pulse's logger (docs/decisions/0028-logs-and-readiness.md): pino through nestjs-pino's Nest
 * logger adapter, so every `new Logger(context)` line of every module is one pino entry with
 * `context`, `gateway` (this gateway's identity, the same as the metrics' label), level and time;
 * JSON lines or readable lines (LOG_FORMAT); secrets redacted (redaction.ts); Nest's boot chatter
 * hidden below debug; HTTP requests logged at debug only. Owns the logger's set-up and its
 * mounting; must not decide what features log or how often (they use RateLimitedLog).
 */

/** Nest's own start-up chatter: one line per module and route, dozens in all. */
const BOOT_CONTEXTS = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
]);

/** LOG_LEVEL (Nest's names) to pino's levels. */
const PINO_LEVELS: Record<LogLevelName, pino.Level> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/**
 * nestjs-pino keeps one root logger per process, but one process may run several gateways
 * (tests, the bench), each with its own identity and level: this binds the adapter to the
 * gateway's own pino instance instead.
 */
class GatewayPino extends PinoLogger {
  constructor(private readonly own: pino.Logger) {
    super({ pinoHttp: { logger: own, autoLogging: false } });
  }

  override get logger(): pino.Logger {
    return this.own;
  }
}

/** Nest's LoggerService over one gateway's pino instance, minus the boot chatter below debug. */
export class PulseLogger extends NestPinoLogger {
  private readonly showBoot: boolean;

  constructor(readonly pino: pino.Logger) {
    super(new GatewayPino(pino), {});
    this.showBoot = pino.isLevelEnabled('debug');
  }

  override log(message: unknown, ...params: unknown[]): void {
    const context = params[params.length - 1];
    if (!this.showBoot && typeof context === 'string' && BOOT_CONTEXTS.has(context)) return;
    super.log(message, ...params);
  }
}

export type LogFormat = 'json' | 'pretty';

/** LOG_FORMAT, or its default: readable on a terminal, JSON anywhere else. */
export function logFormatOf(
  config: Pick<Config, 'LOG_FORMAT'>,
  out: { isTTY?: boolean } = process.stdout,
): LogFormat {
  return config.LOG_FORMAT ?? (out.isTTY ? 'pretty' : 'json');
}

/**
 * The gateway's logger. Lines go through `process.stdout.write` (not straight to fd 1), so
 * whatever taps stdout (a test, a supervisor's pipe) sees them in order with the rest.
 */
export function pulseLoggerFor(
  config: Pick<Config, 'LOG_LEVEL' | 'LOG_FORMAT' | 'GATEWAY_ID' | 'PORT'>,
  out: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout,
): PulseLogger {
  const destination: DestinationStream =
    logFormatOf(config, out) === 'pretty'
      ? prettyDestination(out)
      : { write: (line: string) => void out.write(line) };
  return new PulseLogger(
    pino(
      {
        level: PINO_LEVELS[config.LOG_LEVEL],
        base: { gateway: gatewayId(config), pid: process.pid },
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        redact: { paths: REDACT_PATHS, censor: REDACTED },
        hooks: { streamWrite: scrubSecrets },
      },
      destination,
    ),
  );
}

/**
 * HTTP request lines at LOG_LEVEL=debug (or verbose) only: a per-request logger costs an object
 * and a serialized request on every call of the API. Below debug nothing is mounted; an
 * unhandled error still reaches the log through Nest's exception handler, with its stack.
 */
export function mountRequestLogging(app: INestApplication, logger: PulseLogger): void {
  if (!logger.pino.isLevelEnabled('debug')) return;
  app.use(
    pinoHttp({
      logger: logger.pino,
      customLogLevel: (_req, res, error) => (error || res.statusCode >= 500 ? 'error' : 'debug'),
      // The URL (scrubbed as text) already says what `query` and `params` would repeat
      // unredacted, and a response's headers are the same on every line.
      serializers: {
        req: (req: pino.SerializedRequest) => ({
          id: req.id,
          method: req.method,
          url: req.url,
          headers: req.headers,
          remoteAddress: req.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
}
