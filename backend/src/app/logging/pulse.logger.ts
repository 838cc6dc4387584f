import { ConsoleLogger, LogLevel } from '@nestjs/common';

/** Nest's own start-up chatter: one line per module and route, dozens in all. */
const BOOT_CONTEXTS = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
]);

/**
 * Nest's console logger, minus the boot chatter at level `log`, so what a person sees on
 * `npm start` is Pulse's own lines and the URLs. `LOG_LEVEL=debug` shows everything.
 */
export class PulseLogger extends ConsoleLogger {
  private readonly showBoot: boolean;

  constructor(levels: LogLevel[]) {
    super({ logLevels: levels });
    this.showBoot = levels.includes('debug');
  }

  override log(message: unknown, context?: string): void {
    if (!this.showBoot && context && BOOT_CONTEXTS.has(context)) return;
    super.log(message, context);
  }
}
