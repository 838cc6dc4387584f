import { isIP } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import proxyaddr from 'proxy-addr';
import { isPresetName, unknownPreset } from './preset-names';
import { secretFileIssues } from './secret-files';

/** Nest log levels, least to most verbose; each level includes the ones before it. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'] as const;
/** MQTT_CLIENT_ID's form; also what a session record read back from Redis must hold. */
export const MQTT_CLIENT_ID_PATTERN = /^[A-Za-z0-9_.-]{1,23}$/;
/** GATEWAY_ID's characters (a regular expression's class); also a member id's read from Redis. */
export const GATEWAY_ID_CHARACTERS = 'A-Za-z0-9_.:-';

export type LogLevelName = (typeof LOG_LEVELS)[number];

const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = (max: number) => z.coerce.number().int().positive().max(max);

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
/** A retention: `<n>d`, `<n>h`, `<n>m`, `<n>s` or ms; 1 hour to 10 years. */
const retention = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)?$/, 'must be a duration like 7d, 12h, 30m or milliseconds')
  .transform((text) => {
    const [, n, unit] = /^(\d+)([a-z]*)$/.exec(text) as RegExpExecArray;
    return Number(n) * DURATION_UNITS[unit || 'ms'];
  })
  .pipe(
    z
      .number()
      .min(3_600_000, 'must be at least 1h')
      .max(3650 * 86_400_000, 'must be at most 3650d'),
  );

/**
 * ALLOWED_ORIGINS entries, or one message per bad entry. Exact origins only (lower case, no
 * default port, no path), so what the operator wrote is what the origin check compares.
 */
function parseOrigins(text: string): { origins: string[]; errors: string[] } {
  const origins: string[] = [];
  const errors: string[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    let origin: string | null = null;
    try {
      const url = new URL(entry);
      if (url.protocol === 'http:' || url.protocol === 'https:') origin = url.origin;
    } catch {
      // not a URL: reported below
    }
    if (origin === entry) origins.push(entry);
    else
      errors.push(
        `${JSON.stringify(entry)} is not an origin: write http(s)://host[:port], lower case, no path${origin ? ` (${origin})` : ''}`,
      );
  }
  if (origins.length === 0 && errors.length === 0) errors.push('no origin given');
  return { origins, errors };
}

/**
 * CONNECTION_CAP_EXEMPT entries, or one message per bad entry. Exact addresses only: the
 * exemption is for this host's own clients (the built-in simulator, the bench), and the caps and
 * the publish rate look an address up as it is; a range would exempt whole networks (decision
 * 0010).
 */
function parseExempt(text: string): { addresses: string[]; errors: string[] } {
  if (text === 'none') return { addresses: [], errors: [] };
  const addresses: string[] = [];
  const errors: string[] = [];
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    if (isIP(entry) !== 0) addresses.push(entry);
    else if (isIP(entry.split('/')[0]) !== 0)
      errors.push(
        `${JSON.stringify(entry)} is a range: list exact addresses (ranges are not exempted)`,
      );
    else
      errors.push(
        `${JSON.stringify(entry)} is not an IP address (exact addresses, comma-separated, or none)`,
      );
  }
  if (addresses.length === 0 && errors.length === 0)
    errors.push('no address given (none for no exemption)');
  return { addresses, errors };
}

/**
 * A listen HOST: an IP address, or a name the resolver may know (RFC 1123 labels; `_` too, as
 * container service names have it). Whether a name resolves, and to an address of this machine,
 * only the listen can tell (pulse.ts, embedded-broker.repository.ts).
 */
const HOST_NAME = /^(?=.{1,253}\.?$)[A-Za-z0-9_-]{1,63}(\.[A-Za-z0-9_-]{1,63})*\.?$/;

/**
 * Every environment variable the backend reads, validated once at boot.
 * Empty strings count as unset, so `FOO=` in a compose file means "default".
 */
export const ConfigSchema = z.object({
  /** HTTP + Socket.IO listen port. `0` picks any free port (tests, bench). Default 3000. */
  PORT: port.default(3000),
  /** Listen address for HTTP and the embedded broker. Use `0.0.0.0` in containers. Default 127.0.0.1. */
  HOST: z
    .string()
    .refine((host) => isIP(host) !== 0 || HOST_NAME.test(host), {
      error: (issue) =>
        `${JSON.stringify(issue.input)} is not an IP address or a host name (e.g. 127.0.0.1, 0.0.0.0, :: or pulse.example.com)`,
    })
    .default('127.0.0.1'),
  /**
   * External broker URL (`mqtt://`, `mqtts://`, `ws://`, `wss://`), e.g. `mqtt://mosquitto:1883`.
   * Unset: Pulse starts an embedded Aedes broker on HOST:MQTT_PORT.
   */
  MQTT_URL: z
    .string()
    .regex(/^(mqtts?|wss?|tcp|ssl):\/\/[^\s]+$/, 'must be a URL like mqtt://host:1883')
    .optional(),
  /** Port of the embedded broker (ignored with MQTT_URL). `0` picks any free port. Default 1883. */
  MQTT_PORT: port.default(1883),
  /**
   * Client id of the ingest's MQTT session. Stable across restarts so the broker keeps the
   * persistent session (`clean: false`) and queues QoS 1 messages while the gateway is down.
   * Must be unique per gateway instance. At most 23 characters (MQTT 3.1.1 guarantee). Default `pulse-gateway`.
   * External brokers only: with the embedded broker the ingest subscribes in-process.
   */
  MQTT_CLIENT_ID: z
    .string()
    .regex(MQTT_CLIENT_ID_PATTERN, 'must be 1 to 23 characters of A-Z a-z 0-9 _ - .')
    .default('pulse-gateway'),
  /**
   * Browser origins allowed to open Socket.IO `/live` and to write over HTTP
   * (POST/PUT/PATCH/DELETE), comma-separated, e.g. `https://pulse.example.com,http://localhost:4200`.
   * Requests without Origin/Referer (scripts, curl, devices) are not affected. Each entry exactly
   * `scheme://host[:port]`. Default: the gateway's own origin (the request's Host) plus
   * http://localhost:PORT and http://127.0.0.1:PORT (docs/decisions/0008-entry-point-hardening.md).
   */
  ALLOWED_ORIGINS: z
    .string()
    .transform((text, ctx) => {
      const { origins, errors } = parseOrigins(text);
      for (const message of errors) ctx.addIssue({ code: 'custom', message });
      return origins;
    })
    .optional(),
  /** `on` spawns the built-in device simulator against the broker; `off` does not. Default on. */
  SIMULATOR: z.enum(['on', 'off']).default('on'),
  /** Number of simulated devices. Default 12. */
  SIMULATOR_DEVICES: positiveInt(100_000).default(12),
  /** Readings per second per simulated device. Default 1. */
  SIMULATOR_RATE: z.coerce.number().positive().max(1000).default(1),
  /** Chance that a simulated reading is lost (the built-in fleet's imperfection), 0..1. Default 0.005. */
  SIMULATOR_DROPOUT: z.coerce.number().min(0).max(1).default(0.005),
  /**
   * Chance per second that a simulated device drops off the network for 5..30 s (its Last Will
   * fires), 0..1. Default 0.0005: with 12 devices, one outage every few minutes, so the offline
   * alert and the dashboard's offline state show up in a demo. `0` for a steady fleet.
   */
  SIMULATOR_OFFLINE: z.coerce.number().min(0).max(1).default(0.0005),
  /**
   * Longest a reading waits in the live hub under load: at most one `readings` emit per room
   * per FLUSH_MS (a light load goes out at once). Default 100: the dashboard draws a chart at
   * most 10 times a second, so more batches per second under load show nothing more and cost a
   * socket write per client each (docs/decisions/0005-performance.md).
   */
  FLUSH_MS: positiveInt(10_000).default(100),
  /**
   * Event loop utilisation (0.5–1) at which the gateway counts itself overloaded and throttles
   * every client to merged readings (docs/decisions/0019-conflation.md); `off` never does (slow
   * sockets are still throttled on their own queues). Default 0.9.
   */
  OVERLOAD_ELU: z.union([z.literal('off'), z.coerce.number().min(0.5).max(1)]).default(0.9),
  /** History kept per series, relative to its newest reading, in ms. Default 3600000 (1 h). */
  HISTORY_WINDOW_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(30 * 86_400_000)
    .default(3_600_000),
  /** Cap on points per series (device + metric); the tighter of window and cap wins. Default 7200. */
  HISTORY_MAX_POINTS: positiveInt(1_000_000).default(7200),
  /**
   * History reads over HTTP one client (a session or token; an anonymous client's address) may
   * make per 10 s, counted in devices (a windows read of 30 devices is 30): beyond it, 429 with
   * Retry-After (security/read-budget.ts). At least 100, so that the largest read the API takes
   * (100 devices) always fits. Default 300.
   */
  API_READ_BUDGET: z.coerce.number().int().min(100).max(1_000_000).default(300),
  /** Devices tracked at most; messages from further new devices are refused and counted. Default 10000. */
  MAX_DEVICES: positiveInt(1_000_000).default(10_000),
  /** Built dashboard served at `/`. Default: `dist/dashboard/browser` beside the backend build. */
  DASHBOARD_DIR: z.string().min(1).optional(),
  /**
   * Alert rules file, JSON (`.json`) or YAML (any other extension): `{ rules: [...] }`, validated
   * at boot (every bad rule listed as `path: message`). Rules created, changed or deleted over
   * HTTP are written back to it (atomically). Unset: the rules last saved over HTTP (kept in
   * `${DATA_DIR}/pulse.db`, decision 0022), else the built-in DEFAULT_RULES.
   */
  ALERT_RULES_FILE: z.string().min(1).optional(),
  /**
   * Ingest sources by name, comma-separated (`tasmota,zigbee2mqtt,shelly,esphome`): devices that
   * do not speak Pulse's contract, read where their firmware publishes (ingest/sources/presets.ts);
   * `homeassistant` turns on Home Assistant MQTT discovery (opt-in: docs/decisions/0024).
   */
  INGEST_PRESETS: z
    .string()
    .max(256)
    .superRefine((text, ctx) => {
      for (const name of text.split(',').map((entry) => entry.trim())) {
        if (name !== '' && !isPresetName(name))
          ctx.addIssue({ code: 'custom', message: unknownPreset(name) });
      }
    })
    .optional(),
  /** YAML or JSON file of ingest sources (`{presets: [...], sources: [...]}`), checked at boot. */
  INGEST_SOURCES_FILE: z.string().min(1).optional(),
  // ───────── users, sessions and tokens (auth/, store/; docs/decisions/0009) ─────────
  /**
   * Directory of Pulse's state: the SQLite database `pulse.db` (users, tokens) and the token
   * signing key `secret.key`. Created on first start. Default `./data`.
   */
  DATA_DIR: z.string().min(1).default('./data'),
  /**
   * What a client without a session or token may do: `viewer` (read REST, subscribe on /live)
   * or `none` (401, handshake refused). Default `viewer` while HOST is a loopback address,
   * `none` otherwise. `operator`/`admin` are refused at start.
   */
  ANONYMOUS_ROLE: z.enum(['viewer', 'none', 'operator', 'admin']).optional(),
  /** Seeds user `admin` with this password at start when no admin exists (compose, CI). */
  PULSE_ADMIN_PASSWORD: z.string().min(1).optional(),
  /** Same as PULSE_ADMIN_PASSWORD, read from a file (Docker/Kubernetes secrets). */
  PULSE_ADMIN_PASSWORD_FILE: z.string().min(1).optional(),
  /** File of the token signing key (at least 32 bytes). Default `${DATA_DIR}/secret.key`, created 0600. */
  PULSE_SECRET_FILE: z.string().min(1).optional(),
  // ───────── end of users, sessions and tokens ─────────
  /**
   * Free disk space, in MiB, a backup (`POST /api/backups`, decision 0071) must leave on the
   * backups folder's file system beyond its own copy (estimated as the stores' files with their
   * WAL, the journal and the key): the live stores usually write on that disk too, and their WAL
   * grows while the copy holds its snapshot. A backup that would leave less is refused (507)
   * before anything is written. Default 512.
   */
  BACKUP_RESERVE_MB: z.coerce.number().int().nonnegative().max(1_000_000_000).default(512),
  /**
   * Time limit of a backup's copying process in ms (the journal, the key and the stores copied,
   * then synced to the disk): past it the process is killed, its partial copy removed and the
   * backup reported failed. Default: 10 minutes plus 1 s per MiB of the
   * stores (a copy slower than 1 MiB/s is stuck, not slow).
   */
  BACKUP_TIMEOUT_MS: positiveInt(7 * 86_400_000).optional(),
  /** Most verbose Nest log level printed: fatal|error|warn|log|debug|verbose. Default log. */
  LOG_LEVEL: z.enum(LOG_LEVELS).default('log'),

  // --- TLS, external broker credentials and connection caps (issue 10; checked at boot by
  // --- config/secret-files.ts: files readable, PEM parses, every problem listed).
  /** PEM certificate (chain) for HTTPS/WSS on PORT and mqtts on MQTT_TLS_PORT. With TLS_KEY_FILE. */
  TLS_CERT_FILE: z.string().min(1).optional(),
  /** PEM private key of TLS_CERT_FILE. Both or neither. */
  TLS_KEY_FILE: z.string().min(1).optional(),
  /**
   * Port of the embedded broker's `mqtts` listener (TLS set, MQTT_URL unset); `0` = any free
   * port. Default 8883. Plain MQTT_PORT stays open on HOST for loopback devices and the demo.
   */
  MQTT_TLS_PORT: port.default(8883),
  /** Username of the gateway (and built-in simulator) on an external broker. */
  MQTT_USERNAME: z.string().min(1).max(256).optional(),
  /** File holding the external broker password (read once at boot, never logged; one line). */
  MQTT_PASSWORD_FILE: z.string().min(1).optional(),
  /** PEM CA bundle that signed an external broker's certificate (mqtts:// or wss://). */
  MQTT_CA_FILE: z.string().min(1).optional(),
  /** PEM client certificate for an external broker that wants one. With MQTT_KEY_FILE. */
  MQTT_CERT_FILE: z.string().min(1).optional(),
  /** PEM private key of MQTT_CERT_FILE. */
  MQTT_KEY_FILE: z.string().min(1).optional(),
  /** `/live` connections at most, all addresses together. Default 20000 (docs/limits.md). */
  LIVE_MAX_CONNECTIONS: positiveInt(1_000_000).default(20_000),
  /** `/live` connections at most from one IP address (CONNECTION_CAP_EXEMPT excepted). Default 50. */
  LIVE_MAX_CONNECTIONS_PER_IP: positiveInt(1_000_000).default(50),
  /** Embedded-broker MQTT connections at most (both listeners). Default 20000. */
  MQTT_MAX_CONNECTIONS: positiveInt(1_000_000).default(20_000),
  /** Embedded-broker MQTT connections at most from one IP (CONNECTION_CAP_EXEMPT excepted). Default 100. */
  MQTT_MAX_CONNECTIONS_PER_IP: positiveInt(1_000_000).default(100),
  /**
   * Addresses not held to the per-IP caps (the totals still apply), comma-separated exact IPs
   * (no ranges: anything else is refused at start), `none` for no exemption. Default
   * `127.0.0.1,::1`: the built-in simulator (one MQTT connection per device) and the bench
   * (10,000 sockets) run on this host
   * (docs/decisions/0010-tls-broker-credentials-connection-caps.md).
   */
  CONNECTION_CAP_EXEMPT: z
    .string()
    .transform((text, ctx) => {
      const { addresses, errors } = parseExempt(text);
      for (const message of errors) ctx.addIssue({ code: 'custom', message });
      return addresses;
    })
    .default(['127.0.0.1', '::1']),
  /**
   * Reverse proxies in front of the gateway (nginx, a load balancer), comma-separated: IPs, CIDR
   * ranges or `loopback`, `linklocal`, `uniquelocal` (proxy-addr's names). A request from one of
   * them is taken to come from the right-most address of its `X-Forwarded-For` that is not a
   * trusted proxy: that address is held to the per-IP caps, keys the login rate limit and decides
   * "from this machine" for the first admin. Default: none (the peer's address, headers ignored).
   */
  TRUST_PROXY: z
    .string()
    .transform((text, ctx) => {
      const entries = text
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry !== '' && entry !== 'none');
      try {
        proxyaddr.compile(entries); // what common/client-address.ts will build from them
      } catch (error) {
        ctx.addIssue({
          code: 'custom',
          message: `not an address, a range or loopback/linklocal/uniquelocal: ${(error as Error).message}`,
        });
        return z.NEVER;
      }
      return entries;
    })
    .default([]),
  // --- end of the TLS / broker credentials / connection caps block.
  // --- device credentials on the embedded broker (device-credentials/, docs/decisions/0012).
  /**
   * `true`: an MQTT client without a username may publish as any device id that has no
   * credentials of its own (the README's `mosquitto_pub` line); `false`: every device connects
   * with its id and secret (`POST /api/devices/{id}/credentials`), others are refused. Default
   * `true` while HOST is a loopback address, `false` otherwise. Embedded broker only (an
   * external broker has its own users and ACL).
   */
  ANONYMOUS_DEVICES: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional(),
  // --- end of the device credentials block.

  // --- flood budgets (issue 10; docs/limits.md, docs/decisions/0011-flood-budgets.md).
  /**
   * Messages per second one client may publish to the embedded broker, averaged over 10 s;
   * beyond, its messages are dropped, and beyond twice the budget it is disconnected.
   * The built-in simulator (its own service identity) and CONNECTION_CAP_EXEMPT addresses (the
   * bench) are not held to it.
   * Default 500: 50 times a fast device (10/s), 5 times a bridge of 100 devices at 1/s.
   */
  MQTT_MAX_PUBLISH_PER_SECOND: positiveInt(1_000_000).default(500),
  /**
   * History points kept in all, every device and metric together. Beyond, a device silent for
   * DEVICE_IDLE_EVICT_MS is evicted, or else the series written to stops growing (each new
   * point replaces its oldest). Default 20000000: ~320 MB in full ring buffers (16 bytes a
   * point), up to ~640 MB while rings have just doubled (docs/decisions/0011-flood-budgets.md).
   */
  HISTORY_MAX_TOTAL_POINTS: positiveInt(1_000_000_000).default(20_000_000),
  /**
   * A device silent for at least this long may be evicted (registry entry, history, alert
   * states) to make room when MAX_DEVICES or HISTORY_MAX_TOTAL_POINTS is reached. Default
   * 600000 (10 min): a device reporting every few seconds or minutes is never evicted.
   */
  DEVICE_IDLE_EVICT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(30 * 86_400_000)
    .default(600_000),
  // --- end of the flood budgets block.
  // ───────── durable history (history/; docs/decisions/0021) ─────────
  /**
   * PostgreSQL connection URL (`postgres://user:pass@host:5432/db`): readings history goes there
   * (time-partitioned tables, migrated at boot). Unset: the SQLite file under DATA_DIR.
   */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/[^\s]+$/, 'must be a URL like postgres://user@host:5432/pulse')
    .optional(),
  /** Readings values waiting to be written at most; beyond, new ones are dropped and counted. Default 500000. */
  HISTORY_QUEUE_MAX: positiveInt(10_000_000).default(500_000),
  /** How often queued readings are written (one transaction per flush). Default 500 ms. */
  HISTORY_FLUSH_MS: positiveInt(60_000).default(500),
  /**
   * How long a device's values may wait to be written with its next ones (0: written at the
   * next flush). Written sooner once it has 16 readings waiting, or the queue is half full.
   * A write touches a store page per series, so a large fleet at 1 reading/s needs several
   * values per series per write to keep up (decision 0044). Default 5000 ms.
   */
  HISTORY_HOLD_MS: z.coerce.number().int().nonnegative().max(60_000).default(5000),
  /** How long every raw reading is kept (`90d`, `12h`, `30m` or ms). Default 7d. */
  RETENTION_RAW: retention.prefault('7d'),
  /** How long 1-minute min/max/avg/count rollups are kept. Default 90d. */
  RETENTION_1M: retention.prefault('90d'),
  /** How long 1-hour rollups are kept. Default 730d (2 years). */
  RETENTION_1H: retention.prefault('730d'),

  // ───────── logs and gateway identity (logging/; docs/decisions/0028) ─────────
  /**
   * `json`: one JSON object per line (pino), for log collectors; `pretty`: one readable line per
   * entry. Default `pretty` when stdout is a terminal (`npm start`), `json` otherwise (containers,
   * services, pipes).
   */
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  /**
   * This gateway's name in every log line (`gateway`) and every metric (`gateway` label), e.g.
   * `gateway-a`. Unique per gateway. Default `<hostname>:<PORT>` (`<hostname>-<pid>` with PORT=0).
   */
  GATEWAY_ID: z
    .string()
    .regex(
      new RegExp(`^[${GATEWAY_ID_CHARACTERS}]{1,64}$`),
      'must be 1 to 64 characters of A-Z a-z 0-9 _ . : -',
    )
    .optional(),
  // ───────── end of logs and gateway identity ─────────

  // ───────── scale-out (live/live-redis.repository.ts; docs/decisions/0027) ─────────
  /**
   * Redis of a multi-gateway deployment (`redis://[user[:password]@]host:6379[/db]`,
   * `rediss://` for TLS): Socket.IO's Redis adapter carries alerts and acks between gateways,
   * and each flushed room batch goes to the gateways whose clients watch it. A password in the
   * URL is redacted wherever the URL is printed; REDIS_PASSWORD_FILE keeps it out of the
   * environment. With MQTT_URL too, the ingest shares telemetry (MQTT_SHARED_GROUP). Unset: one
   * gateway, nothing leaves the process.
   */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\/[^\s]+$/, 'must be a URL like redis://host:6379')
    .optional(),
  /** File holding the Redis password (read once at boot, never logged; one line). With REDIS_URL. */
  REDIS_PASSWORD_FILE: z.string().min(1).optional(),
  /**
   * Shared-subscription group of the gateways on an external broker with REDIS_URL: telemetry is
   * subscribed as `$share/<group>/devices/+/telemetry`, so the broker hands each reading to one
   * gateway; status and meta stay plain subscriptions (every gateway's registry needs them).
   * Default `pulse`.
   */
  MQTT_SHARED_GROUP: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1 to 64 characters of A-Z a-z 0-9 _ - .')
    .default('pulse'),
});

export type Config = Omit<z.infer<typeof ConfigSchema>, 'DASHBOARD_DIR'> & {
  DASHBOARD_DIR: string;
};

/** Thrown by {@link loadConfig}; `issues` has one `NAME: message` line per bad variable. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid environment:\n${issues.map((line) => `  ${line}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Default dashboard location: beside the backend bundle (`dist/backend` → `dist/dashboard/browser`). */
const defaultDashboardDir = (bundleDir: string = __dirname): string =>
  join(bundleDir, '../dashboard/browser');

/**
 * Parse the environment once at boot. Throws {@link ConfigError} listing every bad variable.
 * Unknown variables are ignored (the environment holds far more than ours).
 */
export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<Config> = {},
): Config {
  const input: Record<string, string> = {};
  for (const key of Object.keys(ConfigSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') input[key] = value.trim();
  }
  const result = ConfigSchema.safeParse(input);
  // Files named by the environment (TLS, broker credentials) are checked even when another
  // variable is bad, so one boot lists every problem.
  const fileIssues = secretFileIssues(input);
  if (!result.success || fileIssues.length > 0) {
    throw new ConfigError([
      ...(result.error?.issues ?? []).map(
        (issue) => `${issue.path.join('.') || '(env)'}: ${issue.message}`,
      ),
      ...fileIssues,
    ]);
  }
  return {
    ...result.data,
    DASHBOARD_DIR: result.data.DASHBOARD_DIR ?? defaultDashboardDir(),
    ...overrides,
  };
}

/**
 * Several gateways take shares of one broker's telemetry (`$share`, REDIS_URL with MQTT_URL): a
 * device's readings are split between them, so no gateway's recent window holds a series whole.
 */
export function sharesIngest(config: Partial<Pick<Config, 'REDIS_URL' | 'MQTT_URL'>>): boolean {
  return Boolean(config.REDIS_URL && config.MQTT_URL);
}

/** Nest logger levels enabled by a LOG_LEVEL. */
export function logLevels(level: LogLevelName): LogLevelName[] {
  return LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(level) + 1);
}

/** A startup failure with a message meant for the operator (printed without a stack trace). */
export class StartupError extends Error {
  override name = 'StartupError';
}

/** DI token of the parsed {@link Config}. */
export const CONFIG = Symbol('CONFIG');
