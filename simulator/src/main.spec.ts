/**
 * The CLI as users run it: bundled the way `nx build simulator` bundles it
 * (esbuild, '@pulse/protocol' inlined, npm packages external), started as a
 * child process.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import {
  EmbeddedBroker,
  recordMqtt,
  selfSignedCertificate,
  spawnNode,
  startBroker,
  waitFor,
} from '@pulse/test-support';

jest.setTimeout(30_000);

const root = resolve(__dirname, '../..');
const outDir = mkdtempSync(join(tmpdir(), 'pulse-sim-cli-'));
const bin = join(outDir, 'main.js');

beforeAll(async () => {
  await build({
    entryPoints: [join(root, 'simulator/src/main.ts')],
    tsconfig: join(root, 'simulator/tsconfig.app.json'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    outfile: bin,
    external: ['mqtt', 'zod'],
    logLevel: 'silent',
  });
});
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

/** The bundle run as `node main.js ...args`, its npm packages found in the workspace. */
const cli = (args: string[], env: Record<string, string> = {}) =>
  spawnNode(bin, args, { env: { NODE_PATH: join(root, 'node_modules'), ...env } });

describe('simulator CLI', () => {
  it.each<[string[], RegExp]>([
    [['--devices', '0'], /--devices must be 1\.\.100000, got 0/],
    [['--rate', 'fast'], /--rate must be a number, got "fast"/],
    [['--url', 'http://example.com'], /--url must use mqtt:\/\//],
    [['--qos', '2'], /--qos must be 0 or 1/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('%j exits with code 2, names the flag and prints the usage', async (args, message) => {
    const run = cli(args);
    expect(await run.exit).toEqual({ code: 2, signal: null });
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('Usage:');
    expect(run.stdout).toBe('');
  });

  it('--help prints the usage on stdout and exits 0', async () => {
    const run = cli(['--help']);
    expect(await run.exit).toEqual({ code: 0, signal: null });
    expect(run.stdout).toContain('--devices <n>');
    expect(run.stdout).toContain('--load');
  });

  describe('against a real broker', () => {
    let broker: EmbeddedBroker;
    beforeAll(async () => (broker = await startBroker()));
    afterAll(() => broker.close());

    it('publishes offline for every device and exits 0 on SIGTERM', async () => {
      const tap = await recordMqtt(broker.url);
      const run = cli([
        '--url',
        broker.url,
        '--devices',
        '3',
        '--rate',
        '5',
        '--prefix',
        'cli',
        '--quiet',
      ]);
      const live = () => tap.messages.filter((m) => !m.retain);
      const statuses = (payload: string) =>
        live().filter((m) => m.topic.endsWith('/status') && m.payload.toString() === payload)
          .length;
      await waitFor(
        () => statuses('online') === 3 && live().some((m) => m.topic.endsWith('/telemetry')),
        { timeoutMs: 5000, message: 'online' },
      );
      const signalled = Date.now();
      run.child.kill('SIGTERM');
      expect(await run.exit).toEqual({ code: 0, signal: null });
      expect(Date.now() - signalled).toBeLessThan(3500);
      await waitFor(() => statuses('offline') === 3, { timeoutMs: 2000, message: 'offline x3' });
      expect(run.stderr).toBe('');
      await tap.close();
    });

    it('stops by itself after --duration and shows progress on stderr', async () => {
      const run = cli([
        '--url',
        broker.url,
        '--devices',
        '2',
        '--rate',
        '4',
        '--duration',
        '1.2',
        '--prefix',
        'cli-d',
      ]);
      expect(await run.exit).toEqual({ code: 0, signal: null });
      expect(run.stderr).toMatch(/2 devices, 4\/s per device, seed 42/);
      expect(run.stderr).toMatch(/sent \d+ readings in \d+ messages, 0 errors/);
    });
  });
});

describe('simulator credentials CLI', () => {
  it('on a certificate for another name than the URL it tried, suggests --url with that name', async () => {
    // Trusted (NODE_EXTRA_CA_CERTS) but for pulse.test only, as a gateway's real certificate
    // is: the default URL, https://127.0.0.1:PORT with TLS_CERT_FILE set, fails the name check.
    const certificate = selfSignedCertificate(['pulse.test']);
    const server = createServer({
      cert: certificate.cert,
      key: readFileSync(certificate.keyFile),
    });
    try {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const run = cli(['credentials', 'list'], {
        PULSE_TOKEN: 'admin-token',
        PORT: String(port),
        TLS_CERT_FILE: certificate.certFile,
        TLS_KEY_FILE: certificate.keyFile,
        NODE_EXTRA_CA_CERTS: certificate.certFile,
      });
      expect(await run.exit).toEqual({ code: 1, signal: null });
      expect(run.stderr).toBe(
        `pulse-simulator credentials: cannot reach https://127.0.0.1:${port}: its TLS certificate is for pulse.test, not 127.0.0.1 (ERR_TLS_CERT_ALTNAME_INVALID); pass --url https://pulse.test:${port}\n`,
      );
    } finally {
      await new Promise((resolve) => server.close(resolve));
      certificate.remove();
    }
  });
});
