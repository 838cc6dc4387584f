// The simulator's command line: flags, defaults, usage text and their validation into a
// SimulatorConfig. Owns turning argv into a config or an error message; must not print, set the
// exit code or start anything (main.ts does), nor decide what the fleet loop does with the values.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { BrokerCredentials, NO_CREDENTIALS, readBrokerCredentials } from './broker-credentials';
import { DEFAULT_PREFIX, deviceId } from './models/fleet';
import { SCENARIO_NAMES, ScenarioName } from './models/scenario';

/**
 * The simulator's whole configuration, parsed and validated here and nowhere
 * else. Every field documents its flag.
 */
export interface SimulatorConfig {
  /** `--url`: broker URL, mqtt:// mqtts:// ws:// or wss://. */
  url: string;
  /** `--devices`: fleet size, 1..100000. */
  devices: number;
  /** `--rate`: readings per second per device (> 0, at most 1000). Ignored with `--load`. */
  rate: number;
  /** `--seed`: integer seed of every random choice; the same seed replays the same fleet. */
  seed: number;
  /** `--batch`: readings per telemetry message, 1..500 (a JSON array when > 1). */
  batch: number;
  /** `--dropout`: chance that a reading is lost, 0..1. */
  dropout: number;
  /** `--offline`: chance per second that a device goes offline for 5..30 s, 0..1. */
  offline: number;
  /** `--duration`: seconds to run, 0 = until SIGINT/SIGTERM. */
  duration: number;
  /** `--load`: benchmark mode, publish as fast as the connections allow (QoS 0, bounded in flight, ts = publish time). */
  load: boolean;
  /** `--prefix`: device id prefix; ids are `${prefix}-001`... */
  prefix: string;
  /** `--quiet`: no progress line. */
  quiet: boolean;
  /** `--qos`: MQTT QoS of telemetry, 0 or 1 (status and meta always use 1). */
  qos: 0 | 1;
  /** `--connections`: MQTT connections; 0 = auto (one per device up to 200 devices, else a pool). */
  connections: number;
  /** `--period`: seconds of one compressed "day" of the temperature curve. */
  period: number;
  /**
   * `--scenario`: a scripted alert episode on `<prefix>-001` (always a machine): `spike`,
   * `drift`, `flatline` or `offline` (see models/scenario.ts); null = none. Not with `--load`.
   */
  scenario: ScenarioName | null;
  /**
   * `--username`, `--password-file`, `--ca-file` (or env MQTT_USERNAME, MQTT_PASSWORD_FILE,
   * MQTT_CA_FILE), `--credentials-file`: read at startup; a password is never a flag (argv is
   * public in `ps`).
   */
  credentials: BrokerCredentials;
}

export const DEFAULTS: SimulatorConfig = {
  url: 'mqtt://127.0.0.1:1883',
  devices: 12,
  rate: 1,
  seed: 42,
  batch: 1,
  dropout: 0,
  offline: 0,
  duration: 0,
  load: false,
  prefix: DEFAULT_PREFIX,
  quiet: false,
  qos: 0,
  connections: 0,
  period: 600,
  scenario: null,
  credentials: NO_CREDENTIALS,
};

export const USAGE = `Usage: node dist/simulator/main.js [options]

Pulse device simulator: a fleet of fake devices publishing to an MQTT broker
on devices/{id}/telemetry|status|meta (retained online + meta, Last Will offline).

Options:
  --url <url>          broker URL, mqtt:// mqtts:// ws:// wss://   (default ${DEFAULTS.url})
  --devices <n>        number of devices, 1..100000                (default ${DEFAULTS.devices})
  --rate <r>           readings per second per device, > 0         (default ${DEFAULTS.rate})
  --seed <int>         random seed; same seed, same fleet          (default ${DEFAULTS.seed})
  --batch <n>          readings per message, 1..500                (default ${DEFAULTS.batch})
  --dropout <p>        chance a reading is lost, 0..1              (default ${DEFAULTS.dropout})
  --offline <p>        chance per second a device goes offline     (default ${DEFAULTS.offline})
  --duration <s>       seconds to run, 0 = until Ctrl-C            (default ${DEFAULTS.duration})
  --load               benchmark mode: publish as fast as possible, QoS 0,
                       bounded in flight, ts = publish time
  --prefix <id>        device id prefix, ids are <prefix>-001...   (default ${DEFAULTS.prefix})
  --qos <0|1>          QoS of telemetry                            (default ${DEFAULTS.qos})
  --connections <n>    MQTT connections, 0 = auto: one per device
                       up to 200 devices, else a pool              (default auto)
  --period <s>         length of the simulated "day" in seconds    (default ${DEFAULTS.period})
  --scenario <name>    scripted alert episode on <prefix>-001 (a machine), from 2 s:
                         spike     temperature 80 °C + vibration 10 mm/s for 20 s
                         drift     temperature drifts 60 → 74 → 60 °C at 0.5 °C/s
                         flatline  no telemetry for 20 s (stays connected)
                         offline   connection lost for 20 s (Last Will)
  --username <name>    broker username               (env MQTT_USERNAME)
  --password-file <f>  file whose first line is the broker password
                                                      (env MQTT_PASSWORD_FILE)
  --ca-file <f>        PEM CA of an mqtts:// broker   (env MQTT_CA_FILE)
  --credentials-file <f>
                       one identity per device: JSON {"<id>": "<secret>"}
                       or lines <id>:<secret>; every device of the fleet
                       needs one, and each gets its own connection
  --quiet              no progress line
  -h, --help           show this help

Device credentials on a Pulse gateway (admin API): credentials --help

Exit codes: 0 done or stopped, 2 bad arguments.
`;

const finiteNumber = (flag: string) =>
  z
    .string()
    .trim()
    .min(1, `--${flag} needs a value`)
    .transform((raw, ctx) => {
      const value = Number(raw);
      if (!Number.isFinite(value)) {
        ctx.addIssue({
          code: 'custom',
          message: `--${flag} must be a number, got ${JSON.stringify(raw)}`,
        });
        return z.NEVER;
      }
      return value;
    });

const bounded = (
  flag: string,
  min: number,
  max: number,
  opts: { int?: boolean; exclusiveMin?: boolean } = {},
) =>
  finiteNumber(flag).superRefine((value, ctx) => {
    const low = opts.exclusiveMin ? value <= min : value < min;
    if (opts.int && !Number.isInteger(value)) {
      ctx.addIssue({ code: 'custom', message: `--${flag} must be an integer, got ${value}` });
    } else if (low || value > max) {
      const range = opts.exclusiveMin ? `greater than ${min} and at most ${max}` : `${min}..${max}`;
      ctx.addIssue({ code: 'custom', message: `--${flag} must be ${range}, got ${value}` });
    }
  });

const FlagsSchema = z.object({
  url: z
    .string()
    .trim()
    .superRefine((raw, ctx) => {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        ctx.addIssue({
          code: 'custom',
          message: `--url must be a URL like mqtt://host:1883, got ${JSON.stringify(raw)}`,
        });
        return;
      }
      if (
        !['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:', 'ssl:'].includes(url.protocol) ||
        !url.hostname
      ) {
        ctx.addIssue({
          code: 'custom',
          message: `--url must use mqtt://, mqtts://, ws:// or wss:// with a host, got ${JSON.stringify(raw)}`,
        });
      }
    }),
  devices: bounded('devices', 1, 100_000, { int: true }),
  rate: bounded('rate', 0, 1000, { exclusiveMin: true }),
  seed: bounded('seed', -(2 ** 31), 2 ** 32 - 1, { int: true }),
  batch: bounded('batch', 1, 500, { int: true }),
  dropout: bounded('dropout', 0, 1),
  offline: bounded('offline', 0, 1),
  duration: bounded('duration', 0, 365 * 86_400),
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,40}$/, 'must be 1 to 40 characters of A-Z a-z 0-9 _ - .'),
  qos: z.enum(['0', '1'], { error: 'must be 0 or 1' }).transform((q): 0 | 1 => (q === '1' ? 1 : 0)),
  connections: bounded('connections', 0, 10_000, { int: true }),
  period: bounded('period', 1, 7 * 86_400),
  scenario: z
    .string()
    .optional()
    .superRefine((raw, ctx) => {
      if (raw !== undefined && !(SCENARIO_NAMES as readonly string[]).includes(raw))
        ctx.addIssue({
          code: 'custom',
          message: `--scenario must be one of ${SCENARIO_NAMES.join(', ')}, got ${JSON.stringify(raw)}`,
        });
    })
    .transform((raw) => (raw === undefined ? null : (raw as ScenarioName))),
  load: z.boolean(),
  quiet: z.boolean(),
});

export type ConfigResult =
  | { ok: true; config: SimulatorConfig }
  | { ok: true; help: true }
  | { ok: false; error: string };

type ValueFlag = Exclude<keyof SimulatorConfig, 'load' | 'quiet' | 'scenario' | 'credentials'>;
const VALUE_FLAGS: readonly ValueFlag[] = [
  'url',
  'devices',
  'rate',
  'seed',
  'batch',
  'dropout',
  'offline',
  'duration',
  'prefix',
  'qos',
  'connections',
  'period',
];

/**
 * Parse and validate argv (without `node` and the script). Never throws and
 * never exits: the caller prints `error` with {@link USAGE} and exits 2.
 */
export function parseConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ConfigResult {
  let parsed: ReturnType<typeof parseWith>;
  try {
    parsed = parseWith(argv);
  } catch (error) {
    // parseArgs names the flag: "Unknown option '--nope'", "Option '--rate <value>' argument missing".
    return { ok: false, error: (error as Error).message };
  }
  const { values, positionals } = parsed;
  if (values.help) return { ok: true, help: true };
  if (positionals.length > 0) {
    return {
      ok: false,
      error: `unexpected argument ${JSON.stringify(positionals[0])} (flags start with --)`,
    };
  }
  const raw: Record<string, unknown> = { load: values.load ?? false, quiet: values.quiet ?? false };
  for (const flag of VALUE_FLAGS) raw[flag] = values[flag] ?? String(DEFAULTS[flag]);
  raw['scenario'] = values.scenario;
  const result = FlagsSchema.safeParse(raw);
  if (!result.success) {
    const messages = result.error.issues.map((issue) => {
      const flag = String(issue.path[0] ?? '');
      return issue.message.startsWith('--')
        ? issue.message
        : `--${flag} ${issue.message}, got ${JSON.stringify(raw[flag])}`;
    });
    return { ok: false, error: messages.join('\n') };
  }
  if (result.data.scenario !== null && result.data.load) {
    return {
      ok: false,
      error: `--scenario cannot be combined with --load (a scenario is paced in real time)`,
    };
  }
  const credentials = readBrokerCredentials(values, env);
  if (!credentials.ok) return { ok: false, error: credentials.errors.join('\n') };
  const missing = missingSecrets(result.data, credentials.credentials);
  if (missing) return { ok: false, error: missing };
  return { ok: true, config: { ...result.data, credentials: credentials.credentials } };
}

/** With --credentials-file, the fleet's ids it lacks (a few named), or null. */
function missingSecrets(
  fleet: { prefix: string; devices: number },
  credentials: BrokerCredentials,
): string | null {
  const secrets = credentials.deviceSecrets;
  if (!secrets) return null;
  const missing: string[] = [];
  for (let i = 0; i < fleet.devices; i++) {
    const id = deviceId(fleet.prefix, i, fleet.devices);
    if (!secrets.has(id)) missing.push(id);
  }
  if (missing.length === 0) return null;
  const named = missing.slice(0, 5).join(', ');
  return `--credentials-file has no secret for ${named}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''} (ids are ${fleet.prefix}-001...; see --prefix and --devices)`;
}

function parseWith(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      devices: { type: 'string' },
      rate: { type: 'string' },
      seed: { type: 'string' },
      batch: { type: 'string' },
      dropout: { type: 'string' },
      offline: { type: 'string' },
      duration: { type: 'string' },
      prefix: { type: 'string' },
      qos: { type: 'string' },
      connections: { type: 'string' },
      period: { type: 'string' },
      scenario: { type: 'string' },
      username: { type: 'string' },
      'password-file': { type: 'string' },
      'ca-file': { type: 'string' },
      'credentials-file': { type: 'string' },
      load: { type: 'boolean' },
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
