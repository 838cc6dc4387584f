// `pulse-simulator credentials [bridge] create|revoke|list`: device credentials managed through
// the gateway's admin API (POST|DELETE /api/devices/{id}/credentials, GET /api/device-credentials),
// and bridge credentials beside them (/api/bridge-credentials, decision 0067).
// Owns that command's arguments, its HTTP calls and its output; must not touch MQTT or the fleet.
// The admin's token comes from PULSE_TOKEN or --token-file, never from a flag value (argv is
// public in `ps`); a created secret goes to stdout once and nowhere else.
import type {
  BridgeCredentialListResponse,
  CreateBridgeCredentialResponse,
  CreateDeviceCredentialResponse,
  DeviceCredentialListResponse,
} from '@pulse/protocol';
import { isValidId, urlHost } from '@pulse/protocol';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

export const CREDENTIALS_USAGE = `Usage: node dist/simulator/main.js credentials <command> [device-id] [options]
       node dist/simulator/main.js credentials bridge <command> [name] [options]

Device credentials on the Pulse gateway's embedded broker (admin role needed).
The MQTT username is the device id, the password the secret printed once by create.

Commands:
  create <device-id>   make the device's secret, or replace it (its connections
                       are closed); prints the secret on stdout, once
  revoke <device-id>   revoke it and disconnect the device at once
  list                 devices with credentials: created, last connect, revoked

Bridge credentials: one connection publishing for many devices (zigbee2mqtt,
Home Assistant discovery), for any id without credentials of its own. The MQTT
username is bridge:<name>, the password the secret printed once by create.
  bridge create <name> make the bridge's secret, or replace it (its connections
                       are closed); prints the secret on stdout, once
  bridge revoke <name> revoke it and disconnect the bridge at once
  bridge list          bridges with credentials: username, the client id it
                       owns (the last it connected with), created, last connect

Options:
  --url <url>          the gateway, http:// or https://   (default: the one
                       npm start runs in this environment, http://HOST:PORT,
                       https with TLS_CERT_FILE; unset, http://127.0.0.1:3000)
  --token-file <f>     file whose first line is an admin bearer token
                       (or env PULSE_TOKEN; never on the command line)
  -h, --help           show this help

Exit codes: 0 done, 1 refused or unreachable, 2 bad arguments.
`;

export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  fetch: typeof fetch;
}

/**
 * Without `--url`: the gateway that `npm start` runs from this environment, named as it names
 * itself (backend pulse.ts): PORT (default 3000) on HOST (default 127.0.0.1; a gateway bound to
 * every address is reached on 127.0.0.1), https when TLS_CERT_FILE and TLS_KEY_FILE are set (it
 * then serves nothing else on PORT). Read as the gateway's config reads them: trimmed, empty is
 * unset. The simulator's own `--url` (the broker) has a fixed default and reads no variable.
 */
function defaultGatewayUrl(
  env: NodeJS.ProcessEnv,
): { url: string } | { error: string; usage: false } {
  const read = (name: string): string | undefined => env[name]?.trim() || undefined;
  const port = read('PORT') ?? '3000';
  if (!/^\d{1,5}$/.test(port) || Number(port) > 65_535)
    return {
      error: `PORT must be a port number (1 to 65535) for the default --url, got ${JSON.stringify(port)}`,
      usage: false,
    };
  if (Number(port) === 0)
    return {
      error: 'PORT=0 lets the gateway pick a free port: pass --url with the one it printed',
      usage: false,
    };
  const scheme = read('TLS_CERT_FILE') && read('TLS_KEY_FILE') ? 'https' : 'http';
  return { url: `${scheme}://${urlHost(read('HOST') ?? '127.0.0.1')}:${Number(port)}` };
}

/** Run the command; resolves with the process exit code. Never throws. */
export async function runCredentialsCommand(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  io: CommandIo,
): Promise<number> {
  const args = parseCommand(argv, env);
  if ('help' in args) {
    io.stdout(CREDENTIALS_USAGE);
    return 0;
  }
  if ('error' in args) {
    const usage = args.usage === false ? '' : `\n${CREDENTIALS_USAGE}`;
    io.stderr(`pulse-simulator credentials: ${redactTokens(args.error)}\n${usage}`);
    return 2;
  }
  const { command, id, bridge, url, token } = args;
  const { path, body } = bridge
    ? bridgeRequest(command, id)
    : {
        path:
          command === 'list'
            ? '/api/device-credentials'
            : `/api/devices/${encodeURIComponent(id)}/credentials`,
        body: undefined,
      };
  const method = command === 'create' ? 'POST' : command === 'revoke' ? 'DELETE' : 'GET';
  let response: Response;
  try {
    response = await io.fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body,
    });
  } catch (error) {
    io.stderr(`pulse-simulator credentials: cannot reach ${url}: ${unreachable(url, error)}\n`);
    return 1;
  }
  if (!response.ok) {
    const body = await response.text().catch(() => '');
    io.stderr(
      `pulse-simulator credentials: ${method} ${path} answered ${response.status}: ${messageOf(body)}\n`,
    );
    return 1;
  }
  if (bridge) {
    await printBridge(command, id, response, io);
    return 0;
  }
  if (command === 'create') {
    const created = (await response.json()) as CreateDeviceCredentialResponse;
    io.stderr(
      `credentials ${created.rotated ? 'rotated (its old connections were closed)' : 'created'} for device ${created.deviceId}; MQTT username ${created.deviceId}, password (shown once, store it now):\n`,
    );
    io.stdout(`${created.secret}\n`);
  } else if (command === 'revoke') {
    io.stderr(`credentials revoked for device ${id}; its connections were closed\n`);
  } else {
    const { credentials } = (await response.json()) as DeviceCredentialListResponse;
    io.stdout(formatList(credentials));
  }
  return 0;
}

type Parsed =
  | { help: true }
  /** `usage: false` when the command line is right and the usage would bury the one fix. */
  | { error: string; usage?: false }
  | {
      command: 'create' | 'revoke' | 'list';
      /** The device id, or with `bridge` the bridge's name. */
      id: string;
      bridge: boolean;
      url: string;
      token: string;
    };

function parseCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Parsed {
  let values: { url?: string; 'token-file'?: string; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        'token-file': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    return { error: describe(error) };
  }
  if (values.help) return { help: true };
  const bridge = positionals[0] === 'bridge';
  const words = bridge ? positionals.slice(1) : positionals;
  const subject = bridge ? 'bridge name' : 'device id';
  const [command, id = '', ...extra] = words;
  if (command !== 'create' && command !== 'revoke' && command !== 'list')
    return {
      error: `expected ${bridge ? 'bridge ' : ''}create, revoke or list, got ${JSON.stringify(command ?? '')}`,
    };
  if (command === 'list' ? words.length > 1 : extra.length > 0 || !isValidId(id))
    return {
      error:
        command === 'list'
          ? `list takes no ${subject}`
          : `${command} needs one ${subject} (1 to 64 of A-Z a-z 0-9 _ - .), got ${JSON.stringify(words.slice(1).join(' '))}`,
    };
  const target = adminTarget(values, env);
  if ('error' in target) return target;
  return { command, id, bridge, ...target };
}

/**
 * The gateway and the admin token of a command that calls the admin API (`credentials`,
 * `backup`): `--url` or the gateway `npm start` runs from this environment, and PULSE_TOKEN or
 * the first line of `--token-file` (never a flag value: argv is public in `ps`).
 */
export function adminTarget(
  values: { url?: string; 'token-file'?: string },
  env: NodeJS.ProcessEnv,
): { url: string; token: string } | { error: string; usage?: false } {
  let url: string;
  if (values.url !== undefined) url = values.url.replace(/\/+$/, '');
  else {
    const gateway = defaultGatewayUrl(env);
    if ('error' in gateway) return gateway;
    url = gateway.url;
  }
  if (!/^https?:\/\/[^\s/]+/.test(url))
    return { error: `--url must be http(s)://host:port, got ${JSON.stringify(url)}` };
  let token = env['PULSE_TOKEN']?.trim() ?? '';
  const tokenFile = values['token-file'];
  if (tokenFile !== undefined) {
    try {
      token = readFileSync(tokenFile, 'utf8').split(/\r?\n/)[0].trim();
    } catch (error) {
      return {
        error: `--token-file: cannot read ${tokenFile} (${(error as NodeJS.ErrnoException).code})`,
      };
    }
    if (token === '')
      return {
        error: `--token-file: the first line of ${tokenFile} is empty, where the admin token goes`,
        usage: false,
      };
  }
  if (token === '')
    return {
      error:
        'no admin token: set PULSE_TOKEN or pass --token-file <file> whose first line is the token (never the token itself on the command line); an admin makes one with POST /api/auth/tokens',
      usage: false,
    };
  return { url, token };
}

/** `/api/bridge-credentials`: the name in the body of a create, in the path of a revoke. */
function bridgeRequest(
  command: 'create' | 'revoke' | 'list',
  name: string,
): { path: string; body: string | undefined } {
  if (command === 'create')
    return { path: '/api/bridge-credentials', body: JSON.stringify({ name }) };
  if (command === 'revoke')
    return { path: `/api/bridge-credentials/${encodeURIComponent(name)}`, body: undefined };
  return { path: '/api/bridge-credentials', body: undefined };
}

/** What a bridge command answered, as the device commands print theirs. */
async function printBridge(
  command: 'create' | 'revoke' | 'list',
  name: string,
  response: Response,
  io: CommandIo,
): Promise<void> {
  if (command === 'create') {
    const created = (await response.json()) as CreateBridgeCredentialResponse;
    io.stderr(
      `bridge credentials ${created.rotated ? 'rotated (its old connections were closed)' : 'created'} for ${created.name}; MQTT username ${created.username} (zigbee2mqtt: mqtt.user), password (mqtt.password; shown once, store it now):\n`,
    );
    io.stdout(`${created.secret}\n`);
  } else if (command === 'revoke') {
    io.stderr(`bridge credentials revoked for ${name}; its connections were closed\n`);
  } else {
    const { credentials } = (await response.json()) as BridgeCredentialListResponse;
    io.stdout(
      formatTable([
        ['bridge', 'username', 'client id', 'created', 'last connect'],
        ...credentials.map((row) => [
          row.name,
          row.username,
          row.clientId === undefined ? '-' : shownClientId(row.clientId),
          time(row.createdAt),
          time(row.lastConnectAt),
        ]),
      ]),
    );
  }
}

/** How much of a bridge's client id the list shows; the API answers it whole. */
const CLIENT_ID_SHOWN = 64;

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * A bridge's client id as the list shows it. The bridge chose it (any UTF-8 an MQTT CONNECT
 * carries, up to the packet bound), so nothing in it may act on the admin's terminal or pass
 * for something else: every character but printable ASCII is shown as an escape (control and
 * format characters, bidi overrides, spaces and blanks that would fake the table's columns, an
 * ellipsis that would fake the cut; client ids are ASCII in practice), a backslash doubled so an
 * escape cannot be faked, "-" escaped (the column's "none"), and a long one is cut after
 * {@link CLIENT_ID_SHOWN} characters with "…".
 */
function shownClientId(clientId: string): string {
  const chars = [...clientId];
  const cut = chars.length > CLIENT_ID_SHOWN;
  const shown = (cut ? chars.slice(0, CLIENT_ID_SHOWN) : chars)
    .join('')
    .replace(/[^\x21-\x5b\x5d-\x7e]/gu, (c) => ESCAPES[c] ?? codePointEscape(c));
  // "-" alone is the column's "none": a bridge that chose it is shown escaped.
  if (shown === '-') return '\\u002d';
  return cut ? `${shown}…` : shown;
}

function codePointEscape(c: string): string {
  const hex = (c.codePointAt(0) ?? 0).toString(16);
  return hex.length > 4 ? `\\u{${hex}}` : `\\u${hex.padStart(4, '0')}`;
}

/** A time as the lists show it: ISO 8601, or "-" for never. */
function time(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}

function formatList(rows: DeviceCredentialListResponse['credentials']): string {
  return formatTable([
    ['device', 'created', 'last connect', 'revoked'],
    // Not revoked: an empty cell (the line ends there), where "-" in last connect means never.
    ...rows.map((row) => [
      row.deviceId,
      time(row.createdAt),
      time(row.lastConnectAt),
      row.revokedAt === null ? '' : time(row.revokedAt),
    ]),
  ]);
}

/** A header for every column; columns as wide as their longest cell, two spaces apart. */
function formatTable(table: string[][]): string {
  const widths = table[0].map((_, column) =>
    Math.max(...table.map((cells) => cells[column].length)),
  );
  return table
    .map((cells) =>
      cells
        .map((cell, column) => cell.padEnd(widths[column]))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** The API's `{message}` (Nest's error body), or the start of the body. */
export function messageOf(body: string): string {
  try {
    const message = (JSON.parse(body) as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  } catch {
    // not JSON: shown as is
  }
  return body.slice(0, 200) || '(no body)';
}

/**
 * Why a request failed and, for TLS, what to do: the default URL names the gateway by address
 * (https://127.0.0.1:PORT with TLS_CERT_FILE) where its certificate usually names a host, so the
 * fix is most often `--url` with that host. Node's fetch rejects with `fetch failed` and the
 * socket's error, with its OpenSSL or Node code, as the cause.
 */
export function unreachable(url: string, error: unknown): string {
  const cause = (error as { cause?: TlsFailure }).cause;
  const code = cause?.code ?? '';
  const tried = new URL(url);
  const triedHost = tried.hostname.replace(/^\[(.*)\]$/, '$1'); // an IPv6 address comes bracketed
  const elsewhere = (protocol: string, host = triedHost) =>
    `${protocol}//${host.includes(':') ? `[${host}]` : host}${tried.port ? `:${tried.port}` : ''}`;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    // "DNS:pulse.example.com, IP Address:10.0.0.5": a wildcard is no host to suggest.
    const names = (cause?.cert?.subjectaltname ?? '')
      .split(', ')
      .map((entry) => entry.replace(/^(DNS|IP Address):/, ''))
      .filter((name) => name !== '');
    const host = names.find((name) => !name.includes('*'));
    const fix = host
      ? `pass --url ${elsewhere('https:', host)}`
      : "pass --url with the gateway's name on its certificate";
    return `its TLS certificate is for ${names.join(', ') || 'another name'}, not ${cause?.host ?? triedHost} (${code}); ${fix}`;
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER')
    return `it does not answer TLS (${code}): if it serves plain HTTP, pass --url ${elsewhere('http:')}`;
  const byName = `pass --url with the name on the gateway's certificate, ${elsewhere('https:', '<name>')}`;
  // OpenSSL's verify codes: DEPTH_ZERO_SELF_SIGNED_CERT, UNABLE_TO_VERIFY_LEAF_SIGNATURE, ...
  if (/CERT|SIGNATURE/.test(code))
    return `its TLS certificate is not trusted: ${cause?.message} (${code}); ${byName}, and for a private CA set NODE_EXTRA_CA_CERTS=<its PEM file>`;
  if (/^ERR_(TLS|SSL)_/.test(code)) return `TLS failed: ${cause?.message} (${code}); ${byName}`;
  return describe(error);
}

interface TlsFailure {
  code?: string;
  message?: string;
  /** On a name mismatch: the host that was checked, and the certificate it was checked against. */
  host?: string;
  cert?: { subjectaltname?: string };
}

/**
 * An argument error with anything shaped like a token or secret (32 or more characters of a
 * token's alphabet) cut out: one pasted on the command line by mistake would otherwise be echoed
 * to a terminal or a CI log.
 */
export function redactTokens(text: string): string {
  return text.replace(/[A-Za-z0-9_\-.~+/=]{32,}/g, '<redacted>');
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause?.code;
  return `${(error as Error).message}${cause ? ` (${cause})` : ''}`;
}
