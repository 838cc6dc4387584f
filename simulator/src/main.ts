import { parseConfig, USAGE } from './app/config';
import { runBackupCommand } from './app/backup-command';
import { runCredentialsCommand } from './app/credentials-command';
import { watchParent } from './app/parent-watch';
import { runSimulator } from './app/simulator';

export { parseConfig, USAGE, DEFAULTS } from './app/config';
export type { SimulatorConfig } from './app/config';
export { runSimulator, connectionCount } from './app/simulator';
export type { Simulator, SimulatorStats, SimulatorDeps } from './app/simulator';
export { createFleet } from './app/models/fleet';
export { SCENARIO_NAMES, SCENARIO_TIMELINE, scenarioEffect } from './app/models/scenario';
export type { ScenarioName } from './app/models/scenario';

/** Bounded shutdown: whatever the broker does, exit within this time after a signal. */
const FORCE_EXIT_MS = 3000;

export function main(argv: readonly string[]): void {
  if (argv[0] === 'credentials') {
    void runCredentialsCommand(argv.slice(1), process.env, {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      fetch,
    }).then((code) => {
      process.exitCode = code;
    });
    return;
  }
  if (argv[0] === 'backup') {
    void runBackupCommand(argv.slice(1), process.env, {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      fetch,
    }).then((code) => {
      process.exitCode = code;
    });
    return;
  }
  const parsed = parseConfig(argv);
  if (!parsed.ok) {
    process.stderr.write(`pulse-simulator: ${parsed.error}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if ('help' in parsed) {
    process.stdout.write(USAGE);
    return;
  }
  const { config } = parsed;
  if (!config.quiet) {
    const mode = config.load ? 'load mode (max rate)' : `${config.rate}/s per device`;
    const scenario = config.scenario ? `, scenario ${config.scenario} on ${config.prefix}-001` : '';
    process.stderr.write(
      `pulse-simulator: ${config.devices} devices, ${mode}, seed ${config.seed}${scenario} → ${config.url}\n`,
    );
  }
  const simulator = runSimulator(config);
  const shutdown = (signal: string): void => {
    if (!config.quiet)
      process.stderr.write(`\npulse-simulator: ${signal}, publishing offline and disconnecting\n`);
    setTimeout(() => {
      process.stderr.write('pulse-simulator: shutdown timed out, exiting\n');
      process.exit(0);
    }, FORCE_EXIT_MS).unref();
    void simulator.stop();
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  // Started by a gateway (IPC channel): never outlive it, however it died (SIGKILL included).
  watchParent((reason) => shutdown(reason));
  void simulator.done.then(() => {
    const s = simulator.stats();
    if (!config.quiet) {
      process.stderr.write(
        `pulse-simulator: sent ${s.readings} readings in ${s.messages} messages, ${s.errors} errors\n`,
      );
    }
    process.exit(0);
  });
}

if (require.main === module) main(process.argv.slice(2));
