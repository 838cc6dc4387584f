import { BACKEND_MAIN, spawnNode } from '@pulse/test-support';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Real: the built gateway (dist/backend/main.js) started the way an operator starts it, with one
// bad variable: it must say which and why in one line and exit, never print a stack trace.
describe('a bad variable stops the gateway with one line naming it', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'pulse-config-errors-'));
  });

  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function start(env: Record<string, string>) {
    const run = spawnNode(BACKEND_MAIN, [], {
      env: {
        DATA_DIR: dataDir,
        PORT: '0',
        MQTT_PORT: '0',
        SIMULATOR: 'off',
        LOG_FORMAT: 'pretty',
        ...env,
      },
    });
    // One that starts instead of refusing is stopped, and shows as killed.
    const timer = setTimeout(() => run.child.kill('SIGKILL'), 15_000);
    const exit = await run.exit;
    clearTimeout(timer);
    return { exit, stdout: run.stdout, stderr: run.stderr };
  }

  it.each([
    ['CONNECTION_CAP_EXEMPT', 'abc', /^"abc" is not an IP address/],
    ['CONNECTION_CAP_EXEMPT', '10.0.0.0/8', /^"10\.0\.0\.0\/8" is a range/],
    ['HOST', 'not a host', /^"not a host" is not an IP address or a host name/],
    ['INGEST_PRESETS', 'tasmota,foo', /^preset "foo": unknown \(one of tasmota, /],
  ])(
    '%s=%s',
    async (name, value, message) => {
      const { exit, stdout, stderr } = await start({ [name]: value });

      expect(exit).toEqual({ code: 1, signal: null });
      expect(stdout).toBe('');
      const lines = stderr.trimEnd().split('\n');
      expect(lines).toEqual(['Invalid environment:', expect.stringMatching(`^  ${name}: `)]);
      expect(lines[1].slice(`  ${name}: `.length)).toMatch(message);
    },
    30_000,
  );

  it('INGEST_SOURCES_FILE with a bad source: every problem, no stack trace', async () => {
    const file = join(dataDir, 'sources.yaml');
    writeFileSync(file, 'sources:\n  - name: x\n');
    const { exit, stdout, stderr } = await start({ INGEST_SOURCES_FILE: file });

    expect(exit).toEqual({ code: 1, signal: null });
    const output = `${stdout}${stderr}`;
    expect(output).toContain('Pulse cannot start: INGEST_SOURCES_FILE: invalid ingest sources:');
    expect(output).toContain(`${file}: sources.0.topic: `);
    expect(output).toContain(`${file}: sources.0.format: `);
    expect(output).not.toMatch(/\n\s+at /);
  }, 30_000);

  it('HOST that is no address of this machine', async () => {
    // TEST-NET-1 (RFC 5737): a valid address no host here has.
    const { exit, stdout, stderr } = await start({ HOST: '192.0.2.1' });

    expect(exit).toEqual({ code: 1, signal: null });
    const output = `${stdout}${stderr}`;
    expect(output).toMatch(
      /Pulse cannot start: HOST 192\.0\.2\.1 is not an address of this machine/,
    );
    expect(output).not.toMatch(/\n\s+at /);
  }, 30_000);
});
