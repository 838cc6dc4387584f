import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS, parseConfig, SimulatorConfig } from './config';

function ok(argv: string[]): SimulatorConfig {
  const result = parseConfig(argv, {});
  if (!result.ok || !('config' in result))
    throw new Error(`expected a config, got ${JSON.stringify(result)}`);
  return result.config;
}

describe('parseConfig', () => {
  it('uses the defaults the README documents', () => {
    // The flags table of simulator/README.md is what a user reads; every default it shows
    // must be what parseConfig gives with no flags.
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const rows = [...readme.matchAll(/^\| `--([a-z-]+)` \| [^\n]*\| ([^|\n]+) \|$/gm)];
    expect(rows.length).toBeGreaterThanOrEqual(15);
    const config = ok([]);
    const documented = (text: string): unknown => {
      const value = text.trim().replace(/^`(.*)`$/, '$1');
      if (value === 'off') return false;
      if (value === 'none') return null;
      if (value === 'auto') return 0;
      return /^\d+(\.\d+)?$/.test(value) ? Number(value) : value;
    };
    const credentialFlags: Record<string, keyof SimulatorConfig['credentials']> = {
      username: 'username',
      'password-file': 'password',
      'ca-file': 'ca',
      'credentials-file': 'deviceSecrets',
    };
    for (const [, flag, text] of rows) {
      const actual =
        flag in credentialFlags
          ? config.credentials[credentialFlags[flag]]
          : config[flag as keyof SimulatorConfig];
      expect({ flag, value: actual }).toEqual({ flag, value: documented(text) });
    }
    expect(config).toEqual(DEFAULTS);
  });

  it.each<[string[], Partial<SimulatorConfig>]>([
    [['--url', 'mqtts://broker.example.com:8883'], { url: 'mqtts://broker.example.com:8883' }],
    [['--url', 'ws://127.0.0.1:8080/mqtt'], { url: 'ws://127.0.0.1:8080/mqtt' }],
    [['--url=wss://h/mqtt'], { url: 'wss://h/mqtt' }],
    [['--devices', '1'], { devices: 1 }],
    [['--devices', '100000'], { devices: 100_000 }],
    [['--rate', '0.1'], { rate: 0.1 }],
    [['--rate', '50'], { rate: 50 }],
    [['--seed=-7'], { seed: -7 }],
    [['--seed', '0'], { seed: 0 }],
    [['--batch', '500'], { batch: 500 }],
    [['--dropout', '0.01', '--offline', '0.001'], { dropout: 0.01, offline: 0.001 }],
    [['--dropout', '1', '--offline', '0'], { dropout: 1, offline: 0 }],
    [['--duration', '60'], { duration: 60 }],
    [['--duration', '0.5'], { duration: 0.5 }],
    [['--load', '--quiet'], { load: true, quiet: true }],
    [['--prefix', 'bench.A_1-x'], { prefix: 'bench.A_1-x' }],
    [['--qos', '1'], { qos: 1 }],
    [['--connections', '4'], { connections: 4 }],
    [['--period', '86400'], { period: 86_400 }],
    [['--devices', ' 24 '], { devices: 24 }],
    [['--devices', '5', '--devices', '6'], { devices: 6 }],
    [['--scenario', 'spike'], { scenario: 'spike' }],
    [['--scenario=drift'], { scenario: 'drift' }],
    [['--scenario', 'flatline'], { scenario: 'flatline' }],
    [['--scenario', 'offline', '--devices', '1'], { scenario: 'offline', devices: 1 }],
  ])('accepts %j', (argv, expected) => {
    expect(ok(argv)).toEqual({ ...DEFAULTS, ...expected });
  });

  it('recognises --help and -h', () => {
    expect(parseConfig(['--help'])).toEqual({ ok: true, help: true });
    expect(parseConfig(['-h', '--devices', 'x'])).toEqual({ ok: true, help: true });
  });

  it.each<[string[], RegExp]>([
    [['--devices', '0'], /--devices must be 1\.\.100000, got 0/],
    [['--devices', '100001'], /--devices must be 1\.\.100000, got 100001/],
    [['--devices', '1.5'], /--devices must be an integer, got 1\.5/],
    [['--devices', 'twelve'], /--devices must be a number, got "twelve"/],
    [['--devices', ''], /--devices needs a value/],
    [['--devices'], /--devices/],
    [['--rate', '0'], /--rate must be greater than 0/],
    [['--rate=-1'], /--rate must be greater than 0 and at most 1000, got -1/],
    [['--rate', 'Infinity'], /--rate must be a number, got "Infinity"/],
    [['--rate', 'NaN'], /--rate must be a number, got "NaN"/],
    [['--rate', '1e999'], /--rate must be a number/],
    [['--seed', '4.2'], /--seed must be an integer/],
    [['--batch', '0'], /--batch must be 1\.\.500, got 0/],
    [['--batch', '501'], /--batch must be 1\.\.500, got 501/],
    [['--dropout', '1.5'], /--dropout must be 0\.\.1, got 1\.5/],
    [['--offline=-0.1'], /--offline must be 0\.\.1, got -0\.1/],
    [['--duration=-5'], /--duration must be 0\.\./],
    [
      ['--url', 'http://127.0.0.1:1883'],
      /--url must use mqtt:\/\/, mqtts:\/\/, ws:\/\/ or wss:\/\/ with a host, got "http:\/\/127\.0\.0\.1:1883"/,
    ],
    [['--url', '127.0.0.1:1883'], /--url/],
    [['--url', 'not a url'], /--url must be a URL like mqtt:\/\/host:1883, got "not a url"/],
    [['--prefix', 'a/b'], /--prefix must be 1 to 40 characters of A-Z a-z 0-9 _ - \., got "a\/b"/],
    [['--prefix', 'x'.repeat(41)], /--prefix must be 1 to 40 characters/],
    [['--prefix', 'sîm'], /--prefix/],
    [['--qos', '2'], /--qos must be 0 or 1, got "2"/],
    [['--connections', '-1'], /--connections/],
    [['--period', '0'], /--period must be 1\.\./],
    [['--nope'], /Unknown option '--nope'/],
    [['--load=yes'], /--load/],
    [['stray'], /unexpected argument "stray"/],
    [
      ['--scenario', 'boom'],
      /--scenario must be one of spike, drift, flatline, offline, got "boom"/,
    ],
    [['--scenario'], /--scenario/],
    [['--scenario', 'spike', '--load'], /--scenario cannot be combined with --load/],
  ])('rejects %j naming the flag', (argv, message) => {
    const result = parseConfig(argv, {});
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(message);
  });

  it('lists every bad flag at once', () => {
    const result = parseConfig(['--devices', '0', '--rate', 'x', '--qos', '3']);
    expect(result.ok).toBe(false);
    const lines = (!result.ok && result.error.split('\n')) || [];
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['--devices', '--rate', '--qos']);
  });
});
