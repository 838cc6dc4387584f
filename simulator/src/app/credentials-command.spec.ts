/**
 * Medium test: `credentials` against a real HTTP server on a free port standing in for the
 * gateway's admin API (the real gateway: backend/test/device-credentials-cli.spec.ts), with
 * Node's own fetch. What is asserted is where the command goes when `--url` is not given, what
 * it says when it cannot go anywhere (no admin token), and how `list` lays out its table.
 */
import type { DeviceCredentialInfo } from '@pulse/protocol';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server } from 'node:http';
import { createServer as createHttpsServer, Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSignedCertificate, TestCertificate } from '@pulse/test-support';
import { runCredentialsCommand } from './credentials-command';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function credentials(argv: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const run = { stdout: '', stderr: '' };
  const code = await runCredentialsCommand(argv, env, {
    stdout: (text) => void (run.stdout += text),
    stderr: (text) => void (run.stderr += text),
    fetch,
  });
  return { code, ...run };
}

describe('credentials: which gateway without --url', () => {
  let server: Server;
  let port: number;
  const requests: Pick<IncomingMessage, 'method' | 'url' | 'headers'>[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push({ method: req.method, url: req.url, headers: req.headers });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ credentials: [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => (requests.length = 0));

  it('goes to the gateway on PORT, as `npm start` runs it from the same environment', async () => {
    const run = await credentials(['list'], { PULSE_TOKEN: 'admin-token', PORT: String(port) });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(requests).toEqual([
      expect.objectContaining({
        method: 'GET',
        url: '/api/device-credentials',
        headers: expect.objectContaining({ authorization: 'Bearer admin-token' }),
      }),
    ]);
  });

  it('reaches a gateway bound to every address (HOST=0.0.0.0) on 127.0.0.1', async () => {
    const run = await credentials(['list'], {
      PULSE_TOKEN: 'admin-token',
      PORT: ` ${port} `,
      HOST: '0.0.0.0',
    });
    expect(run.code).toBe(0);
    expect(requests).toHaveLength(1);
  });

  it('speaks https to a gateway with TLS_CERT_FILE and TLS_KEY_FILE (it serves nothing else)', async () => {
    const run = await credentials(['list'], {
      PULSE_TOKEN: 'admin-token',
      PORT: String(port),
      TLS_CERT_FILE: '/etc/pulse/cert.pem',
      TLS_KEY_FILE: '/etc/pulse/key.pem',
    });
    // Our stand-in speaks plain HTTP: the TLS handshake fails, naming the URL tried.
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot reach https://127.0.0.1:${port}`);
    expect(run.stderr).toContain(
      `it does not answer TLS (ERR_SSL_WRONG_VERSION_NUMBER): if it serves plain HTTP, pass --url http://127.0.0.1:${port}`,
    );
  });

  it('takes --url over PORT', async () => {
    const run = await credentials(['list', '--url', `http://127.0.0.1:${port}/`], {
      PULSE_TOKEN: 'admin-token',
      PORT: '1',
    });
    expect(run.code).toBe(0);
    expect(requests).toHaveLength(1);
  });

  it.each([
    ['0', 'PORT=0 lets the gateway pick a free port: pass --url with the one it printed'],
    ['abc', 'PORT must be a port number (1 to 65535) for the default --url, got "abc"'],
    ['70000', 'PORT must be a port number (1 to 65535) for the default --url, got "70000"'],
  ])('refuses PORT=%s without --url, naming it in one line (exit 2)', async (value, message) => {
    const run = await credentials(['list'], { PULSE_TOKEN: 'admin-token', PORT: value });
    expect(run.code).toBe(2);
    // The command line is right: the usage would bury the one fix.
    expect(run.stderr).toBe(`pulse-simulator credentials: ${message}\n`);
    expect(requests).toEqual([]);
  });
});

describe('credentials: the admin token', () => {
  // Nothing listens there: every case below stops before any request.
  const url = ['--url', 'http://127.0.0.1:9'];

  it('without one says in one line how to give it, never as an argument (exit 2)', async () => {
    const run = await credentials(['list', ...url], {});
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'pulse-simulator credentials: no admin token: set PULSE_TOKEN or pass --token-file <file> whose first line is the token (never the token itself on the command line); an admin makes one with POST /api/auth/tokens\n',
    );
  });

  it('with an empty --token-file says that file is empty, in one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-token-'));
    try {
      const file = join(dir, 'token');
      writeFileSync(file, '\n');
      const run = await credentials(['list', ...url, '--token-file', file], {});
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(
        `pulse-simulator credentials: --token-file: the first line of ${file} is empty, where the admin token goes\n`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never echoes a token pasted on the command line by mistake', async () => {
    const pasted = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2lnbmF0dXJlLW9mLWEtdG9rZW4';
    const run = await credentials(['create', 'dev-1', pasted], { PULSE_TOKEN: 'admin-token' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('<redacted>');
    expect(run.stderr).not.toContain(pasted);
  });

  it('a bad command still shows the usage', async () => {
    const run = await credentials(['lsit'], { PULSE_TOKEN: 'admin-token' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('expected create, revoke or list, got "lsit"');
    expect(run.stderr).toContain('Usage:');
  });
});

describe('credentials list', () => {
  let server: Server;
  let url: string;
  const rows: DeviceCredentialInfo[] = [];

  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ credentials: rows }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('heads every column, the revoked one included, and aligns them to the longest id', async () => {
    const at = (iso: string) => Date.parse(iso);
    rows.splice(
      0,
      rows.length,
      {
        deviceId: 'lab-001',
        createdAt: at('2026-12-01T08:00:00.000Z'),
        lastConnectAt: at('2026-12-06T09:30:00.000Z'),
        revokedAt: null,
      },
      {
        deviceId: 'boiler-room-east-wing-flow-meter-17',
        createdAt: at('2026-12-02T08:00:00.000Z'),
        lastConnectAt: null,
        revokedAt: at('2026-12-03T08:00:00.000Z'),
      },
    );
    const run = await credentials(['list', '--url', url], { PULSE_TOKEN: 'admin-token' });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(
      [
        'device                               created                   last connect              revoked',
        'lab-001                              2026-12-01T08:00:00.000Z  2026-12-06T09:30:00.000Z',
        'boiler-room-east-wing-flow-meter-17  2026-12-02T08:00:00.000Z  -                         2026-12-03T08:00:00.000Z',
        '',
      ].join('\n'),
    );
  });

  it('with no credentials prints the header alone', async () => {
    rows.length = 0;
    const run = await credentials(['list', '--url', url], { PULSE_TOKEN: 'admin-token' });
    expect(run.stdout).toBe('device  created  last connect  revoked\n');
  });
});

describe('credentials bridge', () => {
  let server: Server;
  let url: string;
  const requests: { method?: string; url?: string; type?: string; body: string }[] = [];
  let answer: unknown = {};

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        requests.push({
          method: req.method,
          url: req.url,
          type: req.headers['content-type'],
          body,
        });
        res.writeHead(answer === null ? 204 : 201, { 'content-type': 'application/json' });
        res.end(answer === null ? undefined : JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => (requests.length = 0));

  it('create: POSTs the name, prints the secret alone on stdout and the username on stderr', async () => {
    answer = {
      name: 'house',
      username: 'bridge:house',
      secret: 's3cret',
      createdAt: 0,
      rotated: false,
    };
    const run = await credentials(['bridge', 'create', 'house', '--url', url], {
      PULSE_TOKEN: 'admin-token',
    });
    expect(run).toMatchObject({ code: 0, stdout: 's3cret\n' });
    expect(run.stderr).toContain('MQTT username bridge:house');
    expect(run.stderr).not.toContain('s3cret');
    expect(requests).toEqual([
      {
        method: 'POST',
        url: '/api/bridge-credentials',
        type: 'application/json',
        body: '{"name":"house"}',
      },
    ]);
  });

  it('revoke: DELETEs the name', async () => {
    answer = null;
    const run = await credentials(['bridge', 'revoke', 'house', '--url', url], {
      PULSE_TOKEN: 'admin-token',
    });
    expect(run).toMatchObject({ code: 0, stdout: '' });
    expect(requests).toEqual([
      expect.objectContaining({ method: 'DELETE', url: '/api/bridge-credentials/house', body: '' }),
    ]);
  });

  it('list: one line per bridge under a header, with the client id it owns', async () => {
    answer = {
      credentials: [
        {
          name: 'house',
          username: 'bridge:house',
          createdAt: Date.parse('2026-12-01T08:00:00.000Z'),
          lastConnectAt: Date.parse('2026-12-01T08:05:00.000Z'),
          clientId: 'z2m-house',
        },
        {
          name: 'shed',
          username: 'bridge:shed',
          createdAt: Date.parse('2026-12-01T08:00:00.000Z'),
          lastConnectAt: null,
        },
      ],
    };
    const run = await credentials(['bridge', 'list', '--url', url], { PULSE_TOKEN: 'admin-token' });
    expect(run.stdout).toBe(
      [
        'bridge  username      client id  created                   last connect',
        'house   bridge:house  z2m-house  2026-12-01T08:00:00.000Z  2026-12-01T08:05:00.000Z',
        'shed    bridge:shed   -          2026-12-01T08:00:00.000Z  -',
        '',
      ].join('\n'),
    );
    expect(requests).toEqual([
      expect.objectContaining({ method: 'GET', url: '/api/bridge-credentials' }),
    ]);
  });

  it("list: a bridge's client id is shown inert (control and format characters escaped, cut)", async () => {
    // The bridge chose these bytes: none may move the cursor, clear the screen or reorder text.
    answer = {
      credentials: [
        {
          name: 'house',
          username: 'bridge:house',
          createdAt: Date.parse('2026-12-01T08:00:00.000Z'),
          lastConnectAt: null,
          clientId: 'z2m\u001b[2J\r\nhouse  bridge:x\u202e\\',
        },
        {
          name: 'long',
          username: 'bridge:long',
          createdAt: Date.parse('2026-12-01T08:00:00.000Z'),
          lastConnectAt: null,
          clientId: 'x'.repeat(1000),
        },
        {
          name: 'dash',
          username: 'bridge:dash',
          createdAt: Date.parse('2026-12-01T08:00:00.000Z'),
          lastConnectAt: null,
          clientId: '-', // the column's "none"
        },
        {
          name: 'blank',
          username: 'bridge:blank',
          createdAt: Date.parse('2026-12-01T08:00:00.000Z'),
          lastConnectAt: null,
          clientId: 'z2m\u2800\u2800bridge:y…', // blanks that are no spaces, a fake cut
        },
      ],
    };
    const run = await credentials(['bridge', 'list', '--url', url], { PULSE_TOKEN: 'admin-token' });
    const lines = run.stdout.split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[3]).toContain('bridge:dash   \\u002d ');
    expect(lines[4]).toContain('bridge:blank  z2m\\u2800\\u2800bridge:y\\u2026 ');
    const shown = 'z2m\\u001b[2J\\r\\nhouse\\u0020\\u0020bridge:x\\u202e\\\\';
    const width = 65; // the longest shown: 64 characters and "…"
    expect(lines[1]).toBe(
      `house   bridge:house  ${shown.padEnd(width)}  2026-12-01T08:00:00.000Z  -`,
    );
    expect(lines[2]).toBe(`long    bridge:long   ${'x'.repeat(64)}…  2026-12-01T08:00:00.000Z  -`);
    for (const line of lines) expect(line).not.toMatch(/[\p{Cc}\p{Cf}]/u);
  });

  it.each([
    [['bridge', 'create'], 'create needs one bridge name (1 to 64 of A-Z a-z 0-9 _ - .), got ""'],
    [
      ['bridge', 'create', 'a:b'],
      'create needs one bridge name (1 to 64 of A-Z a-z 0-9 _ - .), got "a:b"',
    ],
    [['bridge', 'list', 'x'], 'list takes no bridge name'],
    [['bridge', 'lsit'], 'expected bridge create, revoke or list, got "lsit"'],
  ])('refuses %j before any request (exit 2)', async (argv, message) => {
    const run = await credentials([...argv, '--url', url], { PULSE_TOKEN: 'admin-token' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`pulse-simulator credentials: ${message}\n`);
    expect(requests).toEqual([]);
  });
});

describe('credentials: a gateway whose TLS certificate fails the check', () => {
  let certificate: TestCertificate;
  let server: HttpsServer;
  let port: number;

  beforeAll(async () => {
    // Self-signed, so Node's fetch does not trust it (the name check is main.spec.ts's, where
    // the CLI runs with the certificate trusted).
    certificate = selfSignedCertificate();
    server = createHttpsServer({ cert: certificate.cert, key: readFileSync(certificate.keyFile) });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    certificate.remove();
  });

  it('names the URL it tried and suggests --url, and a private CA through NODE_EXTRA_CA_CERTS', async () => {
    const run = await credentials(['list'], {
      PULSE_TOKEN: 'admin-token',
      PORT: String(port),
      TLS_CERT_FILE: certificate.certFile,
      TLS_KEY_FILE: certificate.keyFile,
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `pulse-simulator credentials: cannot reach https://127.0.0.1:${port}: its TLS certificate is not trusted: self-signed certificate (DEPTH_ZERO_SELF_SIGNED_CERT); pass --url with the name on the gateway's certificate, https://<name>:${port}, and for a private CA set NODE_EXTRA_CA_CERTS=<its PEM file>\n`,
    );
  });
});
